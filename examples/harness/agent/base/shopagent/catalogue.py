"""The shop's catalogue and stock, what the agent's tools read."""

CATALOGUE = [
    {"title": "One Piece", "genres": "adventure, pirates, comedy", "stock": 12,
     "blurb": "Luffy sails the Grand Line with his crew to find the treasure One Piece."},
    {"title": "Frieren: Beyond Journey's End", "genres": "fantasy, journey, quiet, drama", "stock": 4,
     "blurb": "An elf mage outlives her party and travels to understand the humans she knew."},
    {"title": "Dungeon Meshi (Delicious in Dungeon)", "genres": "fantasy, cooking, comedy", "stock": 7,
     "blurb": "Adventurers cook and eat the monsters of a dungeon on their way down."},
    {"title": "Vagabond", "genres": "historical, samurai, drama", "stock": 0,
     "blurb": "The life of the swordsman Miyamoto Musashi in ink-wash artwork."},
    {"title": "Vinland Saga", "genres": "historical, viking, action", "stock": 3,
     "blurb": "A Viking boy raised for revenge searches for a land without war."},
    {"title": "Spy x Family", "genres": "comedy, family, action", "stock": 21,
     "blurb": "A spy, an assassin and a telepath form a fake family for a mission."},
]


def search(q):
    """Entries sharing a word with `q`, best first, as the lines the model reads."""
    words = [w for w in q.lower().split() if len(w) > 2]
    scored = [(sum(w in (e["genres"] + " " + e["blurb"]).lower() for w in words), i) for i, e in enumerate(CATALOGUE)]
    hits = [CATALOGUE[i] for s, i in sorted(scored, key=lambda p: (-p[0], p[1])) if s > 0][:3]
    return "\n".join("{title} ({genres}): {blurb}".format(**e) for e in hits) or "No match."


def stock(title):
    for e in CATALOGUE:
        if e["title"] == title:
            return "{}: {} copies in stock.".format(title, e["stock"])
    return "{}: not in the catalogue.".format(title)
