"""The shop's catalogue: what retrieval stuffs into recommendation and product prompts."""

CATALOGUE = [
    {"title": "Frieren: Beyond Journey's End", "genres": ["fantasy", "adventure", "drama"], "volumes": 13,
     "blurb": "After the hero's party defeats the Demon King, the elf mage Frieren outlives her companions and sets out "
              "on a slow journey to understand the humans she barely got to know. Quiet, melancholic and funny, with "
              "careful magic battles and a deep sense of time passing."},
    {"title": "One Piece", "genres": ["adventure", "action", "comedy", "pirates"], "volumes": 109,
     "blurb": "Monkey D. Luffy, a rubber-bodied boy, sails the Grand Line with a growing crew to find the legendary "
              "treasure One Piece and become King of the Pirates. Huge world-building, big-hearted friendships and "
              "decades of foreshadowing paid off."},
    {"title": "Berserk", "genres": ["dark fantasy", "action", "horror"], "volumes": 42,
     "blurb": "Guts, a lone mercenary with an enormous sword, hunts the demonic apostles who betrayed his band. Brutal, "
              "beautifully drawn and philosophical; mature readers only, with graphic violence throughout."},
    {"title": "Vinland Saga", "genres": ["historical", "action", "drama"], "volumes": 14,
     "blurb": "A Viking boy raised for revenge grows into a man searching for a land without war. Starts as a battle "
              "epic and becomes a thoughtful story about violence, farming and forgiveness."},
    {"title": "Spy x Family", "genres": ["comedy", "action", "family"], "volumes": 13,
     "blurb": "A spy, an assassin and a telepathic girl form a fake family for a mission, each hiding secrets from the "
              "others. Light, warm and very funny, suitable for younger readers."},
    {"title": "Dungeon Meshi (Delicious in Dungeon)", "genres": ["fantasy", "comedy", "cooking", "adventure"], "volumes": 14,
     "blurb": "Adventurers who lost their money cook and eat the monsters they fight on the way down a dungeon. Detailed "
              "recipes, clever ecology and a surprisingly moving main quest."},
    {"title": "Vagabond", "genres": ["historical", "samurai", "drama"], "volumes": 37,
     "blurb": "The life of swordsman Miyamoto Musashi in ink-wash artwork of staggering quality, from reckless youth to a "
              "search for the meaning of strength. On hiatus."},
    {"title": "Chainsaw Man", "genres": ["action", "horror", "comedy"], "volumes": 17,
     "blurb": "Denji, a broke devil hunter fused with his chainsaw devil dog, joins a public-safety squad. Chaotic, gory "
              "and unexpectedly tender; mature readers."},
    {"title": "Yotsuba&!", "genres": ["slice of life", "comedy", "family"], "volumes": 15,
     "blurb": "The everyday adventures of an energetic five-year-old girl and her adoptive father in a new town. Gentle, "
              "joyful and perfect for all ages."},
    {"title": "Made in Abyss", "genres": ["adventure", "fantasy", "mystery"], "volumes": 13,
     "blurb": "An orphan girl and a robot boy descend into a vast pit full of relics and monsters, where every layer "
              "down makes the return more dangerous. Cute art, harrowing story."},
    {"title": "Blue Period", "genres": ["drama", "art", "school"], "volumes": 15,
     "blurb": "A bored high-school student discovers painting and aims for the hardest art university in Japan. "
              "Inspiring and full of real art technique."},
    {"title": "Kingdom", "genres": ["historical", "war", "action"], "volumes": 71,
     "blurb": "A war orphan dreams of becoming the greatest general under the heavens during China's Warring States "
              "period. Vast battles and political schemes over seventy volumes."},
    {"title": "Witch Hat Atelier", "genres": ["fantasy", "magic", "adventure"], "volumes": 13,
     "blurb": "Coco, a girl who always wanted to be a witch, learns that magic is drawn with ink and enters an atelier "
              "as an apprentice. Gorgeous illustration and a thoughtful magic system."},
    {"title": "Golden Kamuy", "genres": ["historical", "adventure", "action", "comedy"], "volumes": 31,
     "blurb": "A veteran of the Russo-Japanese War and an Ainu girl hunt hidden gold in Hokkaido, pursued by soldiers and "
              "convicts. Survival, cooking, Ainu culture and absurd humour."},
    {"title": "Mushishi", "genres": ["supernatural", "slice of life", "mystery"], "volumes": 10,
     "blurb": "Ginko wanders a timeless Japanese countryside studying mushi, primitive life forms that cause strange "
              "phenomena. Episodic, atmospheric and calm."},
    {"title": "Haikyu!!", "genres": ["sports", "school", "comedy"], "volumes": 45,
     "blurb": "A short but fearless boy joins his high-school volleyball club and forms an unlikely duo with a genius "
              "setter. Energetic matches and a huge, lovable cast."},
]


def render(entry):
    """One catalogue entry as prompt text."""
    return "- {title} ({volumes} volumes; {genres}): {blurb}".format(
        title=entry["title"], volumes=entry["volumes"], genres=", ".join(entry["genres"]), blurb=entry["blurb"])
