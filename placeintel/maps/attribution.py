"""One attribution line from many sources: each sentence once, OS copyright years merged."""

from __future__ import annotations

import re


def compact_attribution(attributions: list[str]) -> str:
    """One line from many sources: repeated sentences once, OS copyright years merged."""
    sentences: list[str] = []
    years: set[str] = set()
    for text in attributions:
        for sentence in re.split(r"(?<=\.)\s+|;\s*", text):
            sentence = sentence.strip().rstrip(".")
            match = re.match(
                r"Contains OS data © Crown copyright and database right (\d{4})", sentence
            )
            if match:
                years.add(match.group(1))
            elif sentence and sentence not in sentences:
                sentences.append(sentence)
    if years:
        span = min(years) if len(years) == 1 else f"{min(years)}-{max(years)}"
        sentences.append(f"Contains OS data © Crown copyright and database right {span}")
    return ". ".join(sentences) + ("." if sentences else "")
