"""Breakdown elements of a screenplay's action, in the industry's categories and breakdown-sheet colours.

A first assistant director marks a script in coloured pencil, one colour per category, and copies the marks onto a
breakdown sheet per scene. The colours follow the usual convention (Movie Magic, StudioBinder): cast red, background
green, stunts orange, vehicles and animals pink, props violet, special effects blue, sound and music brown; the
categories that convention marks by shape (wardrobe: a circle, makeup and hair: an asterisk, visual effects, set
dressing, weapons) get a tint of their own so the sheet stays readable in colour.

Elements are found in action text only (the caller leaves out notes, boneyard, centred text and transitions):
- words in capitals (how action introduces cast, props and sounds): sorted by the keyword dictionary, else props;
- words of the keyword dictionary in any case, with their plurals ("soldiers" -> background), so that uncapitalised
  elements are found too. Staff extend the dictionary with the BREAKDOWN_KEYWORDS setting
  (`{"vehicles": ["hovercraft"], "props": ["talisman"]}`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: (key, label, colour name, hex) in the order a breakdown sheet lists them.
CATEGORIES: list[tuple[str, str, str, str]] = [
    ("cast", "Cast", "red", "#ef4444"),
    ("background", "Background / extras", "green", "#22c55e"),
    ("stunts", "Stunts", "orange", "#f97316"),
    ("vehicles", "Vehicles", "pink", "#f472b6"),
    ("props", "Props", "violet", "#a855f7"),
    ("weapons", "Weapons", "dark grey", "#64748b"),
    ("wardrobe", "Wardrobe", "sky blue (circle)", "#7dd3fc"),
    ("makeup_hair", "Makeup & hair", "peach (asterisk)", "#fdba74"),
    ("animals", "Animals", "light pink", "#f9a8d4"),
    ("special_effects", "Special effects", "blue", "#3b82f6"),
    ("visual_effects", "Visual effects", "teal", "#14b8a6"),
    ("sound_music", "Sound effects & music", "brown", "#a16207"),
    ("set_dressing", "Set dressing", "tan", "#d6b98c"),
]
CATEGORY_KEYS = [key for key, *_ in CATEGORIES]
CATEGORY_LABELS = {key: label for key, label, *_ in CATEGORIES}
CATEGORY_COLOURS = {key: colour for key, _, _, colour in CATEGORIES}

KEYWORDS: dict[str, list[str]] = {
    "background": [
        "crowd", "soldier", "army", "guard", "passenger", "pedestrian", "onlooker", "bystander", "patron", "diner",
        "dancer", "worker", "officer", "cop", "student", "tourist", "shopper", "nurse", "waiter", "waitress",
        "reporter", "villager", "protester", "spectator", "mourner", "prisoner", "sailor", "marine", "troop", "mob",
        "audience", "people", "men", "women", "children", "kids", "partygoer", "commuter", "customer",
    ],
    "stunts": [
        "stunt", "fight", "fights", "punch", "punches", "kick", "kicks", "tackle", "tackles", "leap", "leaps", "jump",
        "jumps", "dive", "dives", "crash", "crashes", "tumble", "tumbles", "brawl", "chase", "wrestle", "wrestles",
        "stumble", "stumbles", "collapse", "collapses",
    ],
    "vehicles": [
        "car", "truck", "van", "bus", "taxi", "cab", "jeep", "motorcycle", "motorbike", "bike", "bicycle", "boat",
        "ship", "yacht", "ferry", "helicopter", "plane", "airplane", "jet", "train", "tram", "ambulance", "police car",
        "limousine", "limo", "tractor", "forklift", "tank", "submarine", "scooter", "trawler",
    ],
    "props": [
        "phone", "cellphone", "briefcase", "suitcase", "bag", "backpack", "crate", "box", "letter", "envelope", "map",
        "key", "keys", "wallet", "camera", "laptop", "notebook", "book", "photograph", "photo", "glass", "bottle",
        "cup", "mug", "cigarette", "lighter", "flashlight", "torch", "radio", "newspaper", "umbrella", "ticket",
        "passport", "money", "cash", "microphone", "pot", "tray",
    ],
    "weapons": [
        "gun", "pistol", "revolver", "rifle", "shotgun", "handgun", "machine gun", "knife", "dagger", "sword", "axe",
        "grenade", "crossbow", "baton", "machete", "spear", "bomb", "ammunition",
    ],
    "wardrobe": [
        "uniform", "coat", "overcoat", "jacket", "dress", "gown", "suit", "tuxedo", "hat", "helmet", "mask", "boots",
        "shoes", "gloves", "scarf", "costume", "wedding dress", "apron", "cloak", "hoodie",
    ],
    "makeup_hair": [
        "blood", "bloody", "scar", "wound", "bruise", "bruised", "cut lip", "black eye", "wig", "beard", "moustache",
        "mustache", "tattoo", "makeup", "make-up", "sweat", "prosthetic", "haircut",
    ],
    "animals": [
        "dog", "cat", "horse", "bird", "cow", "pig", "sheep", "goat", "chicken", "rat", "mouse", "snake", "parrot",
        "pigeon", "seagull", "gull", "puppy", "kitten", "wolf", "deer", "fish",
    ],
    "special_effects": [
        "explosion", "explodes", "fire", "flames", "smoke", "fog", "mist", "rain", "snow", "sparks", "gunfire",
        "squib", "breakaway", "shatters", "collapse", "steam", "flood",
    ],
    "visual_effects": [
        "hologram", "portal", "cgi", "vfx", "green screen", "disintegrates", "morphs", "teleports", "spaceship",
        "force field", "dragon", "monster",
    ],
    "sound_music": [
        "music", "song", "sings", "singing", "band", "orchestra", "radio plays", "siren", "sirens", "alarm", "gunshot",
        "gunshots", "bang", "thunder", "ringtone", "rings", "barks", "scream", "screams", "whistle", "bell", "bells",
        "horn", "honks",
    ],
    "set_dressing": [
        "furniture", "sofa", "couch", "armchair", "table", "desk", "bookshelf", "bookcase", "lamp", "rug", "curtains",
        "painting", "poster", "mirror", "bed", "shelves", "chandelier", "fireplace", "clock", "fishing nets", "nets",
        "barrels",
    ],
}  # fmt: skip

#: Capitalised words that are screenplay shorthand, not elements.
_SHORTHAND = frozenset(
    {"V.O", "O.S", "O.C", "CONT'D", "CONTINUED", "INT", "EXT", "POV", "CU", "ECU", "MCU", "WS", "INSERT", "BACK",
     "TO", "SCENE", "ANGLE", "ON", "CLOSE", "UP", "WIDE", "SHOT", "LATER", "MOMENTS", "SUPER", "TITLE", "THE",
     "A", "AN", "AND", "OF", "FADE", "IN", "OUT", "CUT", "DISSOLVE", "SMASH", "MATCH", "OK", "I", "TV", "END",
     "FLASHBACK", "MONTAGE", "SERIES", "SHOTS", "INTERCUT", "BEGIN", "DAY", "NIGHT", "MORNING", "EVENING"}
)  # fmt: skip
_DETERMINERS = frozenset(
    {"a", "an", "the", "his", "her", "their", "its", "my", "your", "our", "this", "that", "some", "two", "three",
     "four", "five", "several", "many", "with", "of", "into", "onto", "from"}
)  # fmt: skip
_CAPITALS = re.compile(r"(?<![\w'])[A-Z][A-Z'\-]+(?:\s+[A-Z][A-Z'\-]+)*(?![\w'])")


@dataclass(frozen=True)
class Element:
    category: str
    name: str


def keywords(extra: Mapping[str, Iterable[str]] | None = None) -> dict[str, list[str]]:
    """The keyword dictionary, with staff's additions (BREAKDOWN_KEYWORDS) merged in; unknown categories ignored."""
    merged = {key: list(words) for key, words in KEYWORDS.items()}
    for key, words in (extra or {}).items():
        if key in merged and not isinstance(words, str):
            merged[key] += [str(word).strip().lower() for word in words if str(word).strip()]
    return merged


def keyword_setting(settings: Mapping[str, Any]) -> dict[str, list[str]]:
    value = settings.get("BREAKDOWN_KEYWORDS") or {}
    return keywords(value if isinstance(value, Mapping) else {})


class Finder:
    """Finds a scene's elements in its action text."""

    def __init__(self, dictionary: Mapping[str, list[str]], cast_names: Iterable[str]) -> None:
        self.lookup: dict[str, str] = {}
        for category in CATEGORY_KEYS:
            for word in dictionary.get(category, []):
                self.lookup.setdefault(word.lower(), category)
        phrases = sorted(self.lookup, key=len, reverse=True)
        self.pattern = re.compile(
            r"(?<![\w'])(" + "|".join(re.escape(p) for p in phrases) + r")(?:s|es)?(?![\w'])", re.IGNORECASE
        )
        self.cast = {name.upper() for name in cast_names}

    def category_of(self, phrase: str) -> str | None:
        word = phrase.lower()
        for candidate in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else ""):
            if candidate and candidate in self.lookup:
                return self.lookup[candidate]
        return None

    def find(self, text: str) -> list[Element]:
        """Elements in order of first mention, each once."""
        found: dict[tuple[str, str], int] = {}
        for match in _CAPITALS.finditer(text):
            before = text[: match.start()].split()
            self._capitals(match.group(0), match.start(), before[-1].lower() if before else "", found)
        for match in self.pattern.finditer(text):
            category = self.category_of(match.group(1)) or "props"
            name = match.group(0).upper()
            if name not in self.cast and not any(name in other for _, other in found if other != name):
                found.setdefault((category, name), match.start())
        return [Element(category, name) for (category, name), _ in sorted(found.items(), key=lambda item: item[1])]

    def _capitals(self, phrase: str, at: int, previous: str, found: dict[tuple[str, str], int]) -> None:
        """A phrase in capitals: its dictionary category; else a thing after an article or a number (props), else
        a person introduced by name (cast: "JOHN loads", a character who does not speak)."""
        words = [w for w in phrase.split() if w.strip("'-") and w.strip("'-") not in _SHORTHAND]
        if not words or len("".join(words)) < 2:
            return
        name = " ".join(words)
        if name in self.cast or any(word in self.cast for word in words):
            return
        category = self.category_of(name) or next((c for c in (self.category_of(w) for w in reversed(words)) if c), "")
        if not category:
            category = "props" if previous.strip("\"'(") in _DETERMINERS else "cast"
        found.setdefault((category, name), at)
