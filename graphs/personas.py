"""A built-in pool of varied user personas (our own), 240 of them, in a fixed order."""

from __future__ import annotations

import itertools

_WHO = [
    "a retired schoolteacher",
    "a night-shift nurse",
    "a first-year college student",
    "a small-business owner",
    "a software engineer",
    "a single parent of three",
    "a long-haul truck driver",
    "a freelance graphic designer",
    "a restaurant line cook",
    "a semi-retired accountant",
    "a high-school basketball coach",
    "a veterinary technician",
    "a graduate student in chemistry",
    "a real-estate agent",
    "a stay-at-home dad",
    "a community librarian",
    "a construction site manager",
    "a touring musician",
    "a hospital pharmacist",
    "a museum curator",
    "a ride-share driver",
    "a yoga instructor",
    "a paralegal",
    "an airline mechanic",
    "a wedding photographer",
    "a city bus driver",
    "a dental hygienist",
    "a beekeeper",
    "a firefighter",
    "a personal trainer",
]
_MANNER = [
    "who is patient and polite, and writes in full sentences",
    "who is in a hurry and answers in as few words as possible",
    "who is anxious about money and double-checks every number",
    "who is cheerful and chatty, and drifts into small talk",
    "who is frustrated after a bad experience and a little curt",
    "who is not confident with technology and asks for things to be explained",
    "who is precise and methodical, and lists requests one by one",
    "who is indecisive and sometimes changes their mind before confirming",
]

PERSONAS: list[str] = [f"{who} {manner}" for who, manner in itertools.product(_WHO, _MANNER)]
