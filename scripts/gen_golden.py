#!/usr/bin/env python3
"""Generate the MangaAssist golden dataset under golden/ (deterministic, seeded).

Usage: python3 scripts/gen_golden.py [OUTDIR]   (default: golden)

Files written:
  golden/recommendation.yaml    recommendation cases (with context.docs)
  golden/product_question.yaml  product questions (with context.docs)
  golden/support.yaml           returns, shipping_faq, order_status, store_info
  golden/chit_chat.yml          small talk
  golden/escalation.jsonl       angry / complex cases for a human hand-off (JSONL)
"""
import json
import os
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "golden"
rng = random.Random(187)

# ---------------------------------------------------------------------------
# Catalogue: (en title, ja title, genre, volumes out, price yen, en synopsis, ja synopsis)
CATALOGUE = [
    ("ONE PIECE", "ONE PIECE", "adventure", 110, 528,
     "Monkey D. Luffy and the Straw Hat crew sail the Grand Line in search of the legendary One Piece.",
     "麦わらのルフィが仲間とともに「ひとつなぎの大秘宝」を目指して偉大なる航路を進む海洋冒険ロマン。"),
    ("Jujutsu Kaisen", "呪術廻戦", "dark fantasy", 30, 528,
     "Yuji Itadori swallows a cursed finger and joins Tokyo Jujutsu High to fight curses.",
     "虎杖悠仁は呪物「両面宿儺の指」を取り込み、呪術高専で呪いと戦うことになる。"),
    ("Frieren: Beyond Journey's End", "葬送のフリーレン", "fantasy", 14, 594,
     "An elf mage who outlives her party sets out to understand the humans she travelled with.",
     "魔王を倒した勇者一行の後日譚。長命のエルフ・フリーレンが人を知るための旅に出る。"),
    ("Spy x Family", "SPY×FAMILY", "comedy", 14, 528,
     "A spy, an assassin and a telepathic girl pretend to be a family, each keeping their secret.",
     "スパイの父、殺し屋の母、超能力者の娘。互いに正体を隠した仮初めの家族のホームコメディ。"),
    ("Demon Slayer", "鬼滅の刃", "action", 23, 484,
     "Tanjiro becomes a demon slayer to turn his sister Nezuko back into a human.",
     "鬼にされた妹・禰豆子を人間に戻すため、竈門炭治郎は鬼殺隊に入る。全23巻完結。"),
    ("Attack on Titan", "進撃の巨人", "dark fantasy", 34, 528,
     "Humanity lives behind walls to hide from man-eating Titans, until the wall is breached.",
     "巨人に支配された世界で、壁の中に生きる人類の反撃を描く。全34巻完結。"),
    ("Chainsaw Man", "チェンソーマン", "action", 19, 528,
     "Denji merges with his chainsaw devil dog Pochita and becomes a devil hunter.",
     "借金まみれの少年デンジが、チェンソーの悪魔ポチタと融合し悪魔狩りとなる。"),
    ("The Apothecary Diaries", "薬屋のひとりごと", "mystery", 13, 759,
     "Maomao, a sharp-tongued apothecary, solves poisonings inside the imperial palace.",
     "後宮で下働きをする薬師の娘・猫猫が、毒と薬の知識で宮中の事件を解き明かす。"),
    ("Blue Lock", "ブルーロック", "sports", 31, 528,
     "300 strikers compete in a prison-like facility to become Japan's ultimate egoist forward.",
     "日本をW杯優勝に導くストライカーを生み出すため、300人の高校生FWがサバイバルに挑む。"),
    ("Haikyu!!", "ハイキュー!!", "sports", 45, 484,
     "Short but fearless Hinata joins Karasuno High's volleyball club to reach nationals.",
     "小柄な日向翔陽が烏野高校バレー部で全国を目指す青春スポーツ漫画。全45巻完結。"),
    ("Kaguya-sama: Love Is War", "かぐや様は告らせたい", "romcom", 28, 528,
     "Two student council geniuses scheme to make the other confess first.",
     "天才たちの恋愛頭脳戦。先に告白した方が負け、生徒会の二人の攻防を描くラブコメ。"),
    ("Oshi no Ko", "【推しの子】", "drama", 16, 594,
     "A doctor is reborn as the child of his favourite idol and uncovers the entertainment industry's dark side.",
     "推しのアイドルの子どもに転生した主人公が、芸能界の光と闇に迫る。全16巻完結。"),
    ("Dandadan", "ダンダダン", "supernatural", 18, 528,
     "A girl who believes in ghosts and a boy who believes in aliens discover both are real.",
     "幽霊を信じる少女と宇宙人を信じる少年が、怪奇と宇宙人に立ち向かうオカルトバトル。"),
    ("Kingdom", "キングダム", "historical", 74, 594,
     "A war orphan dreams of becoming a great general during China's Warring States period.",
     "春秋戦国時代の中国を舞台に、天下の大将軍を目指す少年・信の戦いを描く。"),
    ("Vinland Saga", "ヴィンランド・サガ", "historical", 14, 836,
     "Thorfinn, a young Viking warrior, seeks revenge and later a land without war.",
     "父を殺された少年トルフィンの復讐、そして戦いのない地ヴィンランドを目指す物語。"),
    ("Mushoku Tensei", "無職転生", "fantasy", 21, 748,
     "A jobless man is reincarnated in a world of magic and resolves to live without regrets.",
     "34歳無職の男が剣と魔法の異世界に転生し、今度こそ本気で生きることを誓う。"),
    ("Yotsuba&!", "よつばと！", "slice of life", 16, 748,
     "A curious five-year-old girl explores everyday life with her adoptive father.",
     "元気な5歳の女の子・よつばの毎日を描く、日常のささやかな驚きにあふれた作品。"),
    ("Sakamoto Days", "SAKAMOTO DAYS", "action", 20, 528,
     "A legendary hitman retires to run a corner shop, but his past keeps knocking.",
     "伝説の殺し屋・坂本太郎は引退して商店の店主に。しかし刺客が次々と現れる。"),
    ("My Hero Academia", "僕のヒーローアカデミア", "action", 42, 484,
     "Quirkless Izuku Midoriya inherits the power of the greatest hero and enters U.A. High.",
     "無個性の少年・緑谷出久が最高のヒーローから力を受け継ぎ、雄英高校で成長する。全42巻完結。"),
    ("Skip and Loafer", "スキップとローファー", "slice of life", 10, 748,
     "A country girl moves to a Tokyo high school and wins everyone over with her earnestness.",
     "地方から東京の高校に進学した岩倉美津未が、まっすぐさで周りを明るくする青春物語。"),
    ("Delicious in Dungeon", "ダンジョン飯", "fantasy", 14, 748,
     "Adventurers cook and eat the monsters of a dungeon to rescue a friend.",
     "ダンジョンのモンスターを調理して食べながら、仲間を救うために最深部を目指す。全14巻完結。"),
    ("Blue Period", "ブルーピリオド", "drama", 16, 792,
     "A popular delinquent discovers painting and aims for Tokyo University of the Arts.",
     "器用に生きてきた高校生・矢口八虎が絵を描く楽しさに目覚め、東京藝大を目指す。"),
    ("Dragon Ball", "ドラゴンボール", "adventure", 42, 484,
     "Goku's quest for the seven Dragon Balls grows into a saga of martial-arts battles.",
     "孫悟空と仲間たちの冒険とバトルを描く不朽の名作。全42巻完結。"),
    ("Witch Hat Atelier", "とんがり帽子のアトリエ", "fantasy", 13, 792,
     "Coco, who cannot use magic, becomes an apprentice witch after seeing a forbidden secret.",
     "魔法使いに憧れる少女ココが、魔法の秘密を知ってしまい見習い魔法使いになる。"),
]
GENRE_JA = {
    "adventure": "冒険", "dark fantasy": "ダークファンタジー", "fantasy": "ファンタジー", "comedy": "コメディ",
    "action": "バトル", "mystery": "ミステリー", "sports": "スポーツ", "romcom": "ラブコメ", "drama": "ヒューマンドラマ",
    "supernatural": "オカルト", "historical": "歴史", "slice of life": "日常系",
}
PREFS_JA = ["北海道", "沖縄県", "青森県", "福岡県", "大阪府", "石川県", "鹿児島県", "長野県"]
PLACES_EN = ["Hokkaido", "Okinawa", "Sapporo", "Fukuoka", "Osaka", "Kanazawa", "Sendai", "Ishigaki Island"]
COUNTRIES = ["Taiwan", "the US", "France", "Korea", "Singapore", "Australia"]
RELATIONS_EN = ["nephew (12)", "daughter", "boyfriend", "dad", "coworker", "little brother"]
RELATIONS_JA = ["小学生の甥", "娘", "彼氏", "父", "同僚", "弟"]


def doc(entry, ja, vol=None):
    en_t, ja_t, genre, vols, price, syn_en, syn_ja = entry
    return {
        "title": ja_t if ja else en_t,
        "volume": vol if vol is not None else rng.randint(1, vols),
        "price_yen": price,
        "synopsis": syn_ja if ja else syn_en,
    }


def pick_docs(main, ja, n, vol=None):
    others = [c for c in CATALOGUE if c is not main]
    same = [c for c in others if c[2] == main[2]]
    pool = same + rng.sample(others, len(others))
    chosen, seen = [main], {main[0]}
    for c in pool:
        if len(chosen) >= n:
            break
        if c[0] not in seen:
            chosen.append(c)
            seen.add(c[0])
    return [doc(chosen[0], ja, vol)] + [doc(c, ja) for c in chosen[1:]]


def order_no():
    return "MH-%d-%05d" % (rng.choice([2025, 2026]), rng.randint(0, 99999))


# ---------------------------------------------------------------------------
# Query pools.  Each template is formatted with t (title), g (genre), v (volume), etc.
REC_EN = [
    "Can you recommend something like {t}?",
    "I just finished {t}. What should I read next?",
    "Looking for a {g} manga for my {rel}, any ideas?",
    "What's a good completed {g} series? Budget is around ¥{budget}.",
    "Something with the same vibe as {t} but shorter, please.",
    "I'm new to manga. Which {g} title is a good place to start?",
    "My favourite is {t}. Recommend three more in that style?",
    "Any underrated {g} manga you'd suggest?",
]
REC_JA = [
    "{t}みたいなマンガを教えて",
    "{t}を読み終わりました。次のおすすめは？",
    "{rel}へのプレゼントに{g}のマンガを探しています",
    "完結している{g}マンガでおすすめはありますか？予算は{budget}円くらいです。",
    "{t}が好きです。似た雰囲気の作品を3つ教えてください。",
    "マンガ初心者でも読みやすい{g}作品はどれ？",
    "{t}っぽいけど、もう少し短めの作品ってありますか？",
]
PQ_EN = [
    "Is volume {v} of {t} in stock?",
    "How much is {t} vol. {v}?",
    "Does {t} volume {v} come with any special edition extras?",
    "How many volumes of {t} are out so far?",
    "Is {t} finished or still ongoing?",
    "What age is {t} suitable for?",
    "Do you sell the full box set of {t}?",
    "When is the next volume of {t} coming out?",
]
PQ_JA = [
    "{t}の{v}巻は在庫ありますか？",
    "{t}{v}巻の値段を教えてください",
    "{t}は何巻まで出ていますか？",
    "{t}の特装版はありますか？",
    "{t}はもう完結していますか？",
    "{t}は何歳くらいから読めますか？",
    "{t}の全巻セットは売っていますか？",
    "{t}の最新刊はいつ発売ですか？",
]
RET_EN = [
    "Volume {v} of {t} arrived with a torn cover. Can I get a replacement?",
    "How do I return an unopened box set?",
    "I ordered the wrong volume, can I exchange it?",
    "Some pages in my copy of {t} vol. {v} are printed upside down.",
    "What's your return policy?",
    "Do I have to pay for return shipping?",
    "Can I return a manga I already read?",
    "My {t} vol. {v} is water damaged.",
]
RET_JA = [
    "届いた{t}{v}巻のカバーが破れていました。交換できますか？",
    "間違えて{v}巻を注文してしまいました。返品できますか？",
    "返品の送料はかかりますか？",
    "{t}{v}巻に落丁がありました。どうすればいいですか？",
    "返品期限は何日ですか？",
    "未開封なら返品できますか？",
    "{t}の{v}巻が濡れて届きました",
]
SHIP_EN = [
    "How long does shipping to {place} take?",
    "Do you ship to {place}?",
    "Is shipping free?",
    "Can you ship to {country}?",
    "Can I choose a delivery time slot?",
    "Can I pick up my order at a convenience store?",
    "How much is shipping for one volume?",
    "Do you deliver on weekends?",
]
SHIP_JA = [
    "{pref}まで何日かかりますか？",
    "送料はいくらですか？",
    "コンビニ受け取りはできますか？",
    "{pref}への配送日数を教えてください",
    "配達時間の指定はできますか？",
    "海外発送はしていますか？",
    "1冊だけでも送料無料になりますか？",
    "土日も配達してもらえますか？",
]
ORDER_EN = ["Where is my order {o}?", "Has order {o} shipped yet?", "Track my package {o}", "Order {o} status?"]
ORDER_JA = ["注文番号{o}の配送状況を教えて", "注文{o}はもう発送されましたか？", "{o}の荷物はいつ届きますか？"]
CHAT_EN = ["hi", "Hello!", "thanks!", "Thank you so much", "lol", "good morning", "who are you?",
           "are you a bot?", "what's your favorite manga?", "bye", "ok", "cool 👍", "you're really helpful",
           "hey there", "nice", "haha that's funny"]
CHAT_JA = ["こんにちは", "ありがとう！", "おはよう", "あなたは誰？", "好きなマンガは何？", "またね", "了解です",
           "すごい！", "こんばんは", "助かりました", "ロボットなの？", "なるほど"]
ESC_EN = [
    "This is the third time my order arrived damaged. I want to speak to a human NOW and I want a full refund for all of it.",
    "I was charged twice for order {o} and nobody answers my emails. If this isn't fixed today I'm filing a chargeback.",
    "Your courier left my box of {t} in the rain and every volume is ruined. I've been a customer for five years and this is unacceptable.",
    "I cancelled order {o} within an hour but you still shipped it and now you want me to pay return shipping? Let me talk to a manager.",
    "My account was hacked and someone ordered ¥48,000 of manga with my card. Please freeze my account and call me.",
    "The box set of {t} I pre-ordered for my son's birthday never arrived and the tracking hasn't moved in 12 days. What are you going to do about it?",
]
ESC_JA = [
    "破損した商品が届くのはこれで3回目です。担当者と直接話したいです。全額返金してください。",
    "注文{o}で二重に請求されています。メールにも返信がありません。今日中に対応してください。",
    "雨の中に置き配されて{t}が全部濡れてしまいました。5年間利用してきましたが、さすがにひどすぎます。",
    "注文{o}はすぐにキャンセルしたのに発送され、返送料まで請求されました。責任者に代わってください。",
    "アカウントが乗っ取られて、知らない注文が48,000円分入っています。至急アカウントを止めてください。",
    "息子の誕生日用に予約した{t}の全巻セットが届きません。追跡が12日間止まったままです。どうなっているんですか？",
]
INFO_EN = ["Do you have a physical store?", "What payment methods do you accept?", "Can I pay with PayPay?",
           "How do I delete my account?", "Do you offer gift wrapping?", "When do my points expire?",
           "Can I change my email address?", "Do you sell digital editions?"]
INFO_JA = ["実店舗はありますか？", "支払い方法は何がありますか？", "PayPayは使えますか？", "退会方法を教えてください",
           "ギフトラッピングはできますか？", "ポイントの有効期限はいつまでですか？", "メールアドレスを変更したい",
           "電子書籍も売っていますか？"]

HIST_EN = [
    ("Hi, I'm looking for manga.", "Hello! I'd be happy to help you find something. What do you usually enjoy?"),
    ("I like {t}.", "Great choice! {t} is very popular. Are you looking for something similar, or something different?"),
    ("Do you have {t}?", "Yes, we carry {t}. Volumes 1 to {n} are available right now."),
    ("I ordered some manga last week.", "Thanks for your order! How can I help with it?"),
]
HIST_JA = [
    ("マンガを探しています", "こんにちは！お探しのお手伝いをします。普段どんな作品を読まれますか？"),
    ("{t}が好きです", "いいですね！{t}は人気の作品です。似た作品をお探しですか？"),
    ("{t}はありますか？", "はい、{t}は1巻から{n}巻まで在庫がございます。"),
    ("先週マンガを注文しました", "ご注文ありがとうございます。どのようなご用件でしょうか？"),
]


def fill(tmpl, ja, entry=None, **kw):
    entry = entry or rng.choice(CATALOGUE)
    t = entry[1] if ja else entry[0]
    g = GENRE_JA[entry[2]] if ja else entry[2]
    vals = dict(t=t, g=g, v=rng.randint(1, entry[3]), n=entry[3], rel=rng.choice(RELATIONS_JA if ja else RELATIONS_EN),
                budget=rng.choice([3000, 5000, 10000]), place=rng.choice(PLACES_EN), pref=rng.choice(PREFS_JA),
                country=rng.choice(COUNTRIES), o=order_no())
    vals.update(kw)
    return tmpl.format(**vals), vals


def history(ja, entry, turns):
    pool = HIST_JA if ja else HIST_EN
    out = []
    for u, a in rng.sample(pool, turns):
        kw = dict(t=entry[1] if ja else entry[0], n=entry[3])
        out.append({"role": "user", "content": u.format(**kw)})
        out.append({"role": "assistant", "content": a.format(**kw)})
    return out


counter = [0]


def new_case(intent, query, ja, entry, docs=None, multi_p=0.15):
    counter[0] += 1
    c = {"id": "GD-%03d" % counter[0], "intent": intent, "query": query}
    if rng.random() < multi_p:
        c["history"] = history(ja, entry, rng.choice([1, 1, 2]))
    if docs is not None:
        c["context"] = {"docs": docs}
    r = rng.random()
    if r < 0.3:
        c["tier"] = "prime"
    elif r < 0.6:
        c["tier"] = "standard"
    if rng.random() < 0.1:
        c["weight"] = rng.choice([2, 3, 0.5])
    return c


def gen_intent(intent, n, pools, with_docs=False, doc_range=(2, 5), out_tokens=None):
    cases = []
    for _ in range(n):
        ja = rng.random() < 0.4
        entry = rng.choice(CATALOGUE)
        tmpl = rng.choice(pools[1] if ja else pools[0])
        q, vals = fill(tmpl, ja, entry)
        docs = None
        if with_docs:
            docs = pick_docs(entry, ja, rng.randint(*doc_range), vol=vals["v"] if "{v}" in tmpl else None)
        c = new_case(intent, q, ja, entry, docs)
        if out_tokens and rng.random() < 0.15:
            c["output_tokens"] = rng.choice(out_tokens)
        cases.append(c)
    return cases


rec = gen_intent("recommendation", 70, (REC_EN, REC_JA), with_docs=True, out_tokens=[180, 260, 320])
pq = gen_intent("product_question", 70, (PQ_EN, PQ_JA), with_docs=True, out_tokens=[90, 140])
support = (gen_intent("returns", 36, (RET_EN, RET_JA), out_tokens=[100, 180])
           + gen_intent("shipping_faq", 36, (SHIP_EN, SHIP_JA))
           + gen_intent("order_status", 30, (ORDER_EN, ORDER_JA))
           + gen_intent("store_info", 20, (INFO_EN, INFO_JA)))
chat = gen_intent("chit_chat", 42, (CHAT_EN, CHAT_JA))
esc = gen_intent("escalation", 24, (ESC_EN, ESC_JA), out_tokens=[400, 450])


# Quality expectations, derived without the random generator so the cases above stay
# byte-identical: every retrieved doc must reach the model (retrieval recall), escalations are
# served by the big model, order status is answered without one.
for c in rec + pq:
    c["expect"] = {"context_includes": [d["title"] for d in c["context"]["docs"]]}
for c in esc:
    c["expect"] = {"model": "anthropic.claude-sonnet-4-5-20250929-v1:0"}
for c in support:
    if c["intent"] == "order_status":
        c["expect"] = {"bypass": True}


# ---------------------------------------------------------------------------
# A tiny block-style YAML writer: every string double-quoted, one case per item.
def q(s):
    return json.dumps(s, ensure_ascii=False)


def scalar(v):
    if isinstance(v, str):
        return q(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def write_yaml(path, header, cases):
    lines = ["# Generated by scripts/gen_golden.py: edit the generator, not this file.", "# " + header, ""]
    for c in cases:
        lines.append("- id: " + q(c["id"]))
        lines.append("  intent: " + q(c["intent"]))
        lines.append("  query: " + q(c["query"]))
        if "history" in c:
            lines.append("  history:")
            for m in c["history"]:
                lines.append("    - role: " + q(m["role"]))
                lines.append("      content: " + q(m["content"]))
        if "context" in c:
            lines.append("  context:")
            lines.append("    docs:")
            for d in c["context"]["docs"]:
                first = True
                for k in ("title", "volume", "price_yen", "synopsis"):
                    lines.append(("      - " if first else "        ") + "%s: %s" % (k, scalar(d[k])))
                    first = False
        for k in ("tier", "weight", "output_tokens"):
            if k in c:
                lines.append("  %s: %s" % (k, scalar(c[k])))
        if "expect" in c:
            lines.append("  expect:")
            e = c["expect"]
            if "context_includes" in e:
                lines.append("    context_includes: [" + ", ".join(q(t) for t in e["context_includes"]) + "]")
            for k in ("model", "bypass"):
                if k in e:
                    lines.append("    %s: %s" % (k, scalar(e[k])))
        lines.append("")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))


os.makedirs(OUT, exist_ok=True)
write_yaml(os.path.join(OUT, "recommendation.yaml"), "MangaAssist: recommendation requests (with retrieved catalogue docs)", rec)
write_yaml(os.path.join(OUT, "product_question.yaml"), "MangaAssist: product questions (with retrieved catalogue docs)", pq)
write_yaml(os.path.join(OUT, "support.yaml"), "MangaAssist: returns, shipping, order status (bypass) and store info (default route)", support)
write_yaml(os.path.join(OUT, "chit_chat.yml"), "MangaAssist: small talk", chat)
with open(os.path.join(OUT, "escalation.jsonl"), "w", encoding="utf-8", newline="\n") as f:
    for c in esc:
        f.write(json.dumps(c, ensure_ascii=False) + "\n")

total = len(rec) + len(pq) + len(support) + len(chat) + len(esc)
print("wrote %d cases to %s/" % (total, OUT), file=sys.stderr)
