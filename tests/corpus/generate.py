#!/usr/bin/env python3
"""Regenerate the uketsuke test corpus (tests/corpus/) from the data in this script.

Python 3.11, standard library only.  Run from anywhere:

    python3 tests/corpus/generate.py

Every file under mail/, form/ and broken/ is rewritten byte for byte (the directories are
cleared first), so the output is deterministic and every raw byte is reviewable here.

Encodings are produced by hand where Python's email package would not produce what real
clients send:

* ISO-2022-JP is written the way Outlook / Windows CP50220 writes it: each character is
  encoded to CP932 and the Shift_JIS code converted to its JIS code, so NEC row-13 characters
  (① ㈱ Ⅲ № ㍉) come out as JIS row 13 (ESC $ B 0x2D21 ...), and IBM extension kanji
  (髙 﨑, CP932 0xFA-0xFC) come out through their NEC-selected equivalents (CP932 0xED/0xEE,
  JIS rows 89-92), exactly as CP50220/CP50221 do.  Python's own iso2022_jp codec refuses them.
* Shift_JIS bodies are written as Windows writes CP932: IBM extension kanji use the IBM rows
  0xFA-0xFC (Python's cp932 encoder would pick the NEC-selected rows instead).
* Encoded-words, RFC 2231 parameters, quoted-printable and base64 are assembled explicitly.

The expectations (*.expect.json) are hand-written data below; `check()` only verifies that
every expected substring really occurs in the source text (to catch typos), it does not
compute any expectation.
"""
import base64
import datetime
import hashlib
import json
import os
import quopri
import re
import shutil
import sys
import unicodedata
from email.utils import format_datetime

ROOT = os.path.dirname(os.path.abspath(__file__))
SUPPORT = "support@uketsuke.example.jp"
SUPPORT_HDR = "support@uketsuke.example.jp"
JST = datetime.timezone(datetime.timedelta(hours=9))
MAX_FILE = 100 * 1024          # every corpus file stays below this (broken/ long line excepted)

# --------------------------------------------------------------------------------------------
# Character encodings
# --------------------------------------------------------------------------------------------


def _ext_maps():
    """CP932 extension maps: char -> NEC-selected IBM ext code (0xED/0xEE rows) and
    char -> IBM extension code (0xFA-0xFC rows)."""
    nec_sel, ibm = {}, {}
    for lead in (0xED, 0xEE, 0xFA, 0xFB, 0xFC):
        for trail in range(0x40, 0xFD):
            if trail == 0x7F:
                continue
            b = bytes([lead, trail])
            try:
                ch = b.decode("cp932")
            except UnicodeDecodeError:
                continue
            (nec_sel if lead in (0xED, 0xEE) else ibm).setdefault(ch, b)
    return nec_sel, ibm


NEC_SELECTED, IBM_EXT = _ext_maps()


def sjis(text: str) -> bytes:
    """Shift_JIS as Windows (CP932 / WideCharToMultiByte) writes it: IBM extension kanji use
    the IBM rows 0xFA-0xFC, NEC row 13 stays NEC row 13."""
    out = bytearray()
    for ch in text:
        b = ch.encode("cp932")
        if len(b) == 2 and b[0] in (0xED, 0xEE) and ch in IBM_EXT:
            b = IBM_EXT[ch]
        out += b
    return bytes(out)


def _sjis_pair_to_jis(c1: int, c2: int) -> bytes:
    if c1 >= 0xE0:
        c1 -= 0x40
    j1 = (c1 - 0x81) * 2 + 0x21
    if c2 >= 0x9F:
        j1 += 1
        j2 = c2 - 0x7E
    elif c2 >= 0x80:
        j2 = c2 - 0x20
    else:
        j2 = c2 - 0x1F
    assert 0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E, (hex(c1), hex(c2))
    return bytes([j1, j2])


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    if j1 % 2:
        c2 = j2 + 0x1F + (1 if j2 >= 0x60 else 0)
    else:
        c2 = j2 + 0x7E
    c1 = (j1 - 0x21) // 2 + 0x81
    if c1 >= 0xA0:
        c1 += 0x40
    return bytes([c1, c2])


ESC_KANJI = b"\x1b$B"
ESC_ASCII = b"\x1b(B"


def jis(text: str) -> bytes:
    """ISO-2022-JP as Outlook (CP50220) writes it.  Every line ends in ASCII mode."""
    out = bytearray()
    kanji = False
    for ch in text:
        if ord(ch) < 0x80:
            if kanji:
                out += ESC_ASCII
                kanji = False
            out.append(ord(ch))
            continue
        b = ch.encode("cp932")
        if len(b) != 2:
            raise ValueError("half-width katakana is not written in ISO-2022-JP here: %r" % ch)
        if b[0] >= 0xFA:                       # IBM ext -> NEC-selected IBM ext (CP50220)
            b = NEC_SELECTED[ch]
        if not kanji:
            out += ESC_KANJI
            kanji = True
        out += _sjis_pair_to_jis(b[0], b[1])
    if kanji:
        out += ESC_ASCII
    return bytes(out)


def unjis(data: bytes) -> str:
    """Inverse of jis() (used only by the self-test)."""
    out, i, kanji = [], 0, False
    while i < len(data):
        if data[i:i + 3] == ESC_KANJI:
            kanji, i = True, i + 3
        elif data[i:i + 3] == ESC_ASCII:
            kanji, i = False, i + 3
        elif kanji:
            out.append(_jis_pair_to_sjis(data[i], data[i + 1]).decode("cp932"))
            i += 2
        else:
            out.append(chr(data[i]))
            i += 1
    return "".join(out)


def encode_text(text: str, codec: str) -> bytes:
    if codec == "jis":
        return jis(text)
    if codec == "sjis":
        return sjis(text)
    if codec == "euc":
        return text.encode("euc_jp")
    if codec == "utf8":
        return text.encode("utf-8")
    if codec == "ascii":
        return text.encode("ascii")
    raise ValueError(codec)


def selftest_encoders():
    sample = "いつもお世話になっております。\nABC 漢字テスト 123\n"
    assert jis(sample) == sample.encode("iso2022_jp"), "jis() differs from iso2022_jp on JIS X 0208"
    hard = "①②③㈱Ⅲ№㍉ 髙橋 山﨑 ＡＣＭＥ－００１２ ～"
    assert unjis(jis(hard)) == hard
    for ch in "①㈱Ⅲ№㍉":
        assert jis(ch)[3] == 0x2D, ch                       # NEC row 13
    for ch in "髙﨑":
        assert jis(ch)[3] in (0x79, 0x7A, 0x7B, 0x7C), ch   # NEC-selected IBM ext rows 89-92
        assert sjis(ch)[0] in (0xFA, 0xFB, 0xFC), ch        # IBM ext rows in Shift_JIS
        assert sjis(ch).decode("cp932") == ch
    assert unicodedata.normalize("NFKC", "髙﨑") == "髙﨑"


# --------------------------------------------------------------------------------------------
# Headers, encoded-words, MIME assembly
# --------------------------------------------------------------------------------------------

CHARSET_NAME = {"jis": "ISO-2022-JP", "sjis": "Shift_JIS", "utf8": "UTF-8", "euc": "EUC-JP"}


def ew(text: str, codec: str = "jis", enc: str = "B", label: str | None = None) -> str:
    """One RFC 2047 encoded-word."""
    raw = encode_text(text, codec)
    label = label or CHARSET_NAME[codec]
    if enc == "B":
        return "=?%s?B?%s?=" % (label, base64.b64encode(raw).decode("ascii"))
    q = "".join(
        chr(b) if (chr(b).isascii() and chr(b).isalnum()) or chr(b) in "!*+-/" else
        ("_" if b == 0x20 else "=%02X" % b) for b in raw)
    return "=?%s?Q?%s?=" % (label, q)


def ew_words(chunks, codec="jis", enc="B", label=None, fold="\n "):
    """Several self-contained encoded-words (one per chunk), folded."""
    return fold.join(ew(c, codec, enc, label) for c in chunks)


def ew_split_bytes(text: str, codec: str, cuts, label=None, fold="\n ") -> str:
    """Encode the whole text, then cut the raw bytes at the given offsets and base64 every
    piece as its own encoded-word: the cuts may fall inside a character (and, for
    ISO-2022-JP, leave the second word without its own escape sequence)."""
    raw = encode_text(text, codec)
    label = label or CHARSET_NAME[codec]
    pieces, prev = [], 0
    for c in list(cuts) + [len(raw)]:
        pieces.append(raw[prev:c])
        prev = c
    return fold.join("=?%s?B?%s?=" % (label, base64.b64encode(p).decode("ascii")) for p in pieces)


def addr(name: str | None, email: str, codec: str = "jis") -> str:
    if not name:
        return email if codec != "angle" else "<%s>" % email
    if name.isascii():
        return '"%s" <%s>' % (name, email) if any(c in name for c in ",.()") else "%s <%s>" % (name, email)
    return "%s <%s>" % (ew(name, codec), email)


def pct2231(raw: bytes) -> str:
    ok = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")
    return "".join(chr(b) if b in ok else "%%%02X" % b for b in raw)


def date(y, m, d, hh, mm, ss=0) -> str:
    return format_datetime(datetime.datetime(y, m, d, hh, mm, ss, tzinfo=JST))


def _h(seed: str, n: int = 16) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:n]


def msgid(style: str, seed: str, domain: str = "") -> str:
    h = _h(seed, 24)
    if style == "outlook":
        box = "TYCPR01MB%s" % h[:4].upper()
        return "<%s%s@%s.jpnprd01.prod.outlook.example.com>" % (box, h[4:20].upper(), box)
    if style == "gmail":
        return "<CAK%s%s@mail.gmail.example.com>" % (h, _h(seed + "2", 12))
    if style == "thunderbird":
        return "<%s-%s-%s@%s>" % (h[:8], h[8:12], h[12:16], domain)
    if style == "iphone":
        return "<%s-%s-%s@%s>" % (h[:8].upper(), h[8:12].upper(), h[12:24].upper(), domain)
    if style == "ours":
        return "<%s.%s@uketsuke.example.jp>" % (h[:12], h[12:20])
    return "<%s.%s@%s>" % (h[:14], h[14:22], domain)


def received(from_host: str, ip: str, when: str, qid_seed: str) -> str:
    return ("from %s (%s [%s])\n\tby mx1.uketsuke.example.jp (Postfix) with ESMTPS id %s\n"
            "\tfor <%s>; %s" % (from_host, from_host, ip, _h(qid_seed, 10).upper(), SUPPORT, when))


def hdrs(pairs) -> bytes:
    out = bytearray()
    for k, v in pairs:
        if v is None:
            continue
        if isinstance(v, str):
            v = v.encode("ascii")          # non-ASCII header bytes must be given explicitly
        out += k.encode("ascii") + b": " + v + b"\n"
    return bytes(out)


def entity(pairs, body: bytes) -> bytes:
    return hdrs(pairs) + b"\n" + body


def multipart(boundary: str, parts, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    out = bytearray(preamble)
    for p in parts:
        out += b"--" + boundary.encode("ascii") + b"\n" + p
        if not p.endswith(b"\n"):
            out += b"\n"
    out += b"--" + boundary.encode("ascii") + b"--\n" + epilogue
    return bytes(out)


def cte_encode(raw: bytes, cte: str) -> bytes:
    if cte in ("7bit", "8bit", None):
        return raw if raw.endswith(b"\n") else raw + b"\n"
    if cte == "base64":
        return base64.encodebytes(raw)
    if cte == "quoted-printable":
        return quopri.encodestring(raw)
    raise ValueError(cte)


def crlf(raw: bytes) -> bytes:
    assert b"\r" not in raw
    return raw.replace(b"\n", b"\r\n")


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

MAILS = []      # (short name, raw bytes, expect, src)
FORMS = []      # (short name, form dict, expect)
BROKEN = []     # (short name, raw bytes, expect)

SIGNALS = ["auto_submitted", "precedence", "list_id", "x_autoreply", "x_autorespond",
           "x_auto_response_suppress", "null_return_path", "mailer_daemon", "delivery_report",
           "own_message_id", "loop_header"]
ITEMS = ["customer_id", "repro_steps", "error_messages", "description", "circumstances"]
KEY_ORDER = ["policy", "at", "language", "customer_id", "case_ref", "priority", "feature_request",
             "action", "signals", "missing", "fields_contain", "fields_exclude",
             "subject_contains", "body_contains", "attachments"]


def T(s: str) -> str:
    """Body text literal: drop the first newline, put back the '-- ' signature separator
    (written <SIGSEP> so that no editor strips its trailing space)."""
    if s.startswith("\n"):
        s = s[1:]
    return s.replace("<SIGSEP>", "-- ")


def expect(**kw) -> dict:
    unknown = set(kw) - set(KEY_ORDER)
    assert not unknown, unknown
    return {k: kw[k] for k in KEY_ORDER if k in kw}


# people: (display name, address)
YAMADA = ("山田 太郎", "yamada@acme.example.jp")
TAKAHASHI = ("髙橋 健一", "takahashi@ops.acme.example.jp")
YAMASAKI = ("山﨑 美咲", "yamasaki@ops.acme.example.jp")
SATO = ("佐藤 花子", "sato@ops.acme.example.jp")
TANAKA = ("田中 浩二", "tanaka@acme.example.jp")            # acme.example.jp but NOT a contact
MILLER = ("John Miller", "j.miller@globex.example.com")
SCHMIDT = ("Anna Schmidt", "a.schmidt@globex.example.com")
NAIR = ("Priya Nair", "p.nair@globex.example.com")
UMBRELLA = ("Umbrella IT Desk", "it-desk@umbrella.example.com")
SUZUKI = ("鈴木 一郎", "suzuki@sakura-logi.example.jp")
NAKAMURA = ("中村 恵", "nakamura@sakura-logi.example.jp")
YOSHIDA = ("吉田 誠", "yoshida@sakura-logi.example.jp")
KOBAYASHI = ("小林 直樹", "kobayashi@initech.example.jp")
ITO = ("伊藤 翔", "ito@hokuto.example.jp")
KIMURA = ("木村 大輔", "kimura@hokuto.example.jp")
CONSULTANT = ("渡辺 健太", "consultant@partner.example.net")
STRANGER = (None, "someone@gmail.example.com")
MOBILE = (None, "k-mori.0823@ezweb.example.ne.jp")
PRIVATE_YAMADA = ("Taro Yamada", "taro.yamada.1979@gmail.example.com")

HOSTS = {
    "acme.example.jp": ("mail.acme.example.jp", "192.0.2.10"),
    "ops.acme.example.jp": ("mail-ty1jpn01on2101.outbound.protection.outlook.example.com", "203.0.113.101"),
    "globex.example.com": ("mail-eopbgr40071.outbound.protection.outlook.example.com", "198.51.100.71"),
    "umbrella.example.com": ("mx-out.umbrella.example.com", "198.51.100.33"),
    "sakura-logi.example.jp": ("smtp.sakura-logi.example.jp", "192.0.2.45"),
    "initech.example.jp": ("mail.initech.example.jp", "192.0.2.77"),
    "hokuto.example.jp": ("mail.hokuto.example.jp", "203.0.113.20"),
    "partner.example.net": ("smtp.partner.example.net", "203.0.113.58"),
    "gmail.example.com": ("mail-sor-f41.google.example.com", "198.51.100.41"),
    "ezweb.example.ne.jp": ("mx.ezweb.example.ne.jp", "198.51.100.90"),
}

MAILERS = {
    "outlook": ("X-Mailer", "Microsoft Outlook 16.0"),
    "outlook-jp": ("X-Mailer", "Microsoft Outlook 16.0"),
    "thunderbird": ("User-Agent", "Mozilla Thunderbird"),
    "becky": ("X-Mailer", "Becky! ver. 2.81.04 [ja]"),
    "iphone": ("X-Mailer", "iPhone Mail (22B91)"),
    "gmail": (None, None),
    "mew": ("X-Mailer", "Mew version 6.8 on Emacs 29.1"),
    "datula": ("X-Mailer", "Datula version 1.52.04"),
    "notes": ("X-Mailer", "HCL Notes Release 12.0.2 (Build 20231019)"),
    "none": (None, None),
}


def _subject_header(subject: str, codec: str, chunk: int = 11) -> str:
    if subject.isascii():
        return subject
    # keep a leading ASCII run (RE: , [CASE-...] ) raw, up to the last space before non-ASCII
    first = next(i for i, c in enumerate(subject) if not c.isascii())
    cut = subject.rfind(" ", 0, first) + 1
    prefix, rest = subject[:cut], subject[cut:]
    c = {"jis": "jis", "euc": "jis", "sjis": "sjis", "utf8": "utf8", "ascii": "jis"}[codec]
    pieces = [rest[i:i + chunk] for i in range(0, len(rest), chunk)]
    return prefix + ew_words(pieces, c)


def add_mail(name, raw: bytes, exp: dict, subject: str = "", body: str = "", extra_text: str = "",
             attachments=()):
    MAILS.append((name, raw, exp, {"subject": subject, "body": body, "extra": extra_text,
                                    "attachments": list(attachments)}))


def mail(name, *, who, subject, when, body=None, codec="jis", cte="7bit", label="default",
         subject_hdr=None, client="outlook", to=None, cc=None, in_reply_to=None, references=None,
         recv=True, extra=(), content=None, body_src=None, extra_text="", attachments=(),
         no_ctype=False, mime_version=True, ctype="text/plain", ctype_extra="", return_path=None,
         line_end="crlf", exp=None, message_id=None, from_hdr=None, name_codec=None,
         date_hdr=None):
    """Assemble one message.  `body` (text) is encoded with `codec` and `cte` into a single
    text part, unless `content` = (content headers, body bytes) is given (multipart etc.)."""
    disp, email = who
    domain = email.split("@", 1)[1]
    y, mo, d, hh, mi, ss = when
    dt = date_hdr or date(y, mo, d, hh, mi, ss)
    style = {"outlook": "outlook", "outlook-jp": "outlook", "gmail": "gmail", "thunderbird": "thunderbird",
             "iphone": "iphone"}.get(client, "plain")
    mid = message_id or msgid(style, name, domain)
    if name_codec is None:
        name_codec = {"sjis": "sjis", "utf8": "utf8"}.get(codec, "jis")
    pairs = []
    if recv:
        host, ip = HOSTS[domain]
        rt = datetime.datetime(y, mo, d, hh, mi, ss, tzinfo=JST) + datetime.timedelta(seconds=3)
        pairs.append(("Return-Path", return_path if return_path is not None else "<%s>" % email))
        pairs.append(("Received", received(host, ip, format_datetime(rt) + " (JST)", name)))
    elif return_path is not None:
        pairs.append(("Return-Path", return_path))
    pairs.append(("From", from_hdr or addr(disp, email, name_codec)))
    pairs.append(("To", to or SUPPORT))
    if cc:
        pairs.append(("Cc", cc))
    pairs.append(("Subject", subject_hdr if subject_hdr is not None else _subject_header(subject, codec)))
    pairs.append(("Date", dt))
    pairs.append(("Message-ID", mid))
    if in_reply_to:
        pairs.append(("In-Reply-To", in_reply_to))
    if references:
        pairs.append(("References", references))
    mk, mv = MAILERS[client]
    if mk:
        pairs.append((mk, mv))
    if mime_version:
        pairs.append(("MIME-Version", "1.0"))
    if content is not None:
        cpairs, cbody = content
        pairs.extend(cpairs)
        pairs.extend(extra)
        raw = entity(pairs, cbody)
    else:
        raw_body = encode_text(body, codec)
        if not no_ctype:
            lab = CHARSET_NAME[codec] if label == "default" else label
            ct = ctype + ("; charset=%s" % lab if lab else "") + ctype_extra
            pairs.append(("Content-Type", ct))
            if cte:
                pairs.append(("Content-Transfer-Encoding", cte))
        pairs.extend(extra)
        raw = entity(pairs, cte_encode(raw_body, cte))
    if line_end == "crlf":
        raw = crlf(raw)
    add_mail(name, raw, exp, subject=subject, body=body_src if body_src is not None else (body or ""),
             extra_text=extra_text, attachments=attachments)


def text_part(text: str, codec: str, cte: str, label: str | None = "default", ctype="text/plain",
              extra_ct="", disposition=None) -> bytes:
    lab = CHARSET_NAME.get(codec) if label == "default" else label
    pairs = [("Content-Type", ctype + ("; charset=%s" % lab if lab else "") + extra_ct),
             ("Content-Transfer-Encoding", cte)]
    if disposition:
        pairs.append(("Content-Disposition", disposition))
    return entity(pairs, cte_encode(encode_text(text, codec), cte))


def binary_part(data: bytes, ctype: str, disposition: str, extra_pairs=()) -> bytes:
    pairs = [("Content-Type", ctype)] + list(extra_pairs) + [
        ("Content-Transfer-Encoding", "base64"), ("Content-Disposition", disposition)]
    return entity(pairs, base64.encodebytes(data))


def fake_png(seed: str) -> bytes:
    h = hashlib.sha256(seed.encode()).digest()
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00" + h * 6


def fake_jpeg(seed: str) -> bytes:
    h = hashlib.sha256(seed.encode()).digest()
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + h * 8 + b"\xff\xd9"


def fake_pdf(title: str) -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"% " + title.encode("utf-8") + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def fake_xlsx(seed: str) -> bytes:
    return b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + hashlib.sha256(seed.encode()).digest() * 4


# Our acknowledgment as customers quote it in their replies.
ACK_QUOTE_JA = T("""
> 株式会社アクメ
> 山田 太郎 様
>
> ウケツケ サポートセンターです。お問い合わせを受け付けました。
> 受付番号：CASE-2026-000123
> 優先度：中
> 今後のご連絡の際は、件名の受付番号を変更せずにご返信ください。
>
> 調査のため、以下の情報が不足しております。ご返信にてお知らせください。
> ・再現手順
> ・表示されたエラーメッセージの全文
>
> ----
> ウケツケ サポートセンター
> support@uketsuke.example.jp
""")


# ============================================================================================
# MAIL MESSAGES
# ============================================================================================
# Greeting / closing lines belong to no field.
GREET_JA = ["いつもお世話になっております", "よろしくお願いいたします"]


def mails_charsets():
    # ---- Outlook, ISO-2022-JP 7bit, 【】 blocks, full-width customer ID, long subject folded
    #      over several self-contained encoded-words (freescout#3312).
    body = T("""
サポートご担当者様

いつもお世話になっております。
株式会社アクメ 情報システム部の山田です。

受注一覧画面からのCSV出力ができなくなっておりますので、ご確認をお願いいたします。

【お客様番号】
ＡＣＭＥ－００１２

【現象】
受注一覧画面で「CSV出力」ボタンを押すと、ダウンロードが始まらず画面上部に赤いメッセージが表示されます。
11月20日までは問題なく出力できていました。

【再現手順】
1. 受注管理 > 受注一覧 を開く
2. 期間に 2026/11/01～2026/11/23 を指定して検索する
3. 「CSV出力」ボタンを押す

【エラーメッセージ】
出力処理中にエラーが発生しました。(エラーコード: E-4012)

【期待される結果】
検索結果の受注データがCSVファイルとしてダウンロードされること。

【発生状況】
11月21日(土)のメンテナンス以降、全ユーザーで発生しています。
期間を1週間以内に絞ると正常に出力できます。

お忙しいところ恐れ入りますが、よろしくお願いいたします。

<SIGSEP>
株式会社アクメ 情報システム部
山田 太郎
TEL: 03-1234-5678 / FAX: 03-1234-5679
""")
    mail("outlook-iso2022jp-labelled-blocks", who=YAMADA, when=(2026, 11, 24, 10, 12, 33),
         subject="受注一覧のCSV出力でエラー（E-4012）が発生し、データをダウンロードできません",
         body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["ダウンロードが始まらず", "CSVファイルとしてダウンロードされること"],
                 "repro_steps": ["受注管理 > 受注一覧 を開く", "「CSV出力」ボタンを押す"],
                 "error_messages": ["出力処理中にエラーが発生しました。(エラーコード: E-4012)"],
                 "circumstances": ["メンテナンス以降、全ユーザーで発生", "1週間以内に絞ると正常に出力できます"]},
             fields_exclude=GREET_JA + ["サポートご担当者様", "03-1234-5678", "FAX: 03-1234-5679"],
             subject_contains=["受注一覧のCSV出力でエラー（E-4012）が発生し、データをダウンロードできません"],
             body_contains=["【お客様番号】", "ＡＣＭＥ－００１２", "出力処理中にエラーが発生しました。(エラーコード: E-4012)"]))

    # ---- NEC special characters (row 13) in subject and body, Outlook ISO-2022-JP
    #      (freescout#3124: they became "?").
    body = T("""
サポートセンター 御中

いつもお世話になっております。
㈱アクメの山田でございます。

請求書の帳票（帳票Ⅲ型）をPDF出力すると、丸数字や㈱などの文字が「?」に置き換わって印字されます。
お取引先へ送付する書類のため、対応方法をご教示いただけますでしょうか。

お客様番号：ACME-0012

■再現手順
① 請求管理 > 請求書発行 を開く
② 伝票№ 2026-1124-01 を選択する
③ 帳票Ⅲ型、余白10㍉を指定して「PDF出力」を押す

■エラー内容
画面上のエラー表示はありませんが、PDF上で「㈱アクメ」が「?アクメ」、「①」が「?」と出力されます。

■発生状況
帳票Ⅱ型では正しく出力されます。Ⅲ型のみで発生します。

以上、よろしくお願いいたします。

━━━━━━━━━━━━━━━━━━━━
㈱アクメ 情報システム部
山田 太郎　TEL 03-1234-5678
━━━━━━━━━━━━━━━━━━━━
""")
    mail("outlook-iso2022jp-nec-specials", who=YAMADA, when=(2026, 11, 24, 11, 2, 5),
         subject="帳票Ⅲ型のPDF出力で①②や㈱が「?」になります（伝票№指定時）",
         body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["丸数字や(株)などの文字が「?」に置き換わって印字されます"],
                 "repro_steps": ["請求書発行 を開く", "伝票No 2026-1124-01 を選択する", "帳票III型、余白10ミリを指定"],
                 "error_messages": ["「(株)アクメ」が「?アクメ」"],
                 "circumstances": ["帳票II型では正しく出力されます"]},
             fields_exclude=GREET_JA + ["TEL 03-1234-5678", "サポートセンター 御中"],
             subject_contains=["帳票Ⅲ型", "①②", "㈱", "伝票№指定時"],
             body_contains=["㈱アクメの山田", "① 請求管理", "伝票№ 2026-1124-01", "余白10㍉", "帳票Ⅲ型", "帳票Ⅱ型"]))

    # ---- IBM extension kanji 髙 﨑 in ISO-2022-JP (written via NEC-selected rows, as CP50220
    #      does) in the From display name, the subject and the body; `Label: value` lines.
    body = T("""
サポートご担当者様

お世話になっております。アクメ運用チームの髙橋です。

弊社の山﨑（yamasaki@ops.acme.example.jp）のアカウントだけ、ログインできなくなりました。

概要: 山﨑のアカウントでログインすると、パスワード入力後にログイン画面へ戻されます。
手順: ログイン画面でID「yamasaki」とパスワードを入力し、「ログイン」を押す
エラーメッセージ: 認証に失敗しました。管理者にお問い合わせください。(AUTH-1003)
発生状況: 11月24日 9時頃から。他のメンバー（髙橋・佐藤）は問題なくログインできます。

お手数ですが、ご確認をお願いいたします。

髙橋 健一
アクメ運用チーム
""")
    mail("outlook-iso2022jp-ibm-kanji", who=TAKAHASHI, when=(2026, 11, 24, 9, 41, 12),
         subject="髙橋です：山﨑のアカウントでログインできません", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["パスワード入力後にログイン画面へ戻されます"],
                 "repro_steps": ["ID「yamasaki」とパスワードを入力し"],
                 "error_messages": ["認証に失敗しました。管理者にお問い合わせください。(AUTH-1003)"],
                 "circumstances": ["他のメンバー(髙橋・佐藤)は問題なくログインできます"]},
             fields_exclude=["お世話になっております"],
             subject_contains=["髙橋です", "山﨑のアカウント"],
             body_contains=["アクメ運用チームの髙橋です", "弊社の山﨑", "髙橋 健一"]))

    # ---- Shift_JIS 8bit (Becky!) with IBM extension rows 0xFA-0xFC (髙 﨑 ⅰ) in body,
    #      Shift_JIS encoded-words in From and Subject; ──── signature.
    body = T("""
サポートセンター御中

お世話になります。アクメの山﨑です。
先ほど髙橋からご連絡した、ログインできない件の補足です。

発生条件：
・ブラウザ：Microsoft Edge 131
・ログイン画面の「次回から自動ログイン」にチェックを入れた場合のみ発生
・チェックを外すと問題なくログインできます

エラーメッセージ：
認証に失敗しました。管理者にお問い合わせください。(AUTH-1003)
(ⅰ) ブラウザのコンソールには「POST /api/session 401 (Unauthorized)」と出ています。

よろしくお願いいたします。
────────────────────
山﨑 美咲（やまさき みさき）
株式会社アクメ 運用チーム
TEL: 03-1234-5690
────────────────────
""")
    mail("becky-sjis-ibm-kanji", who=YAMASAKI, when=(2026, 11, 24, 10, 5, 40), client="becky",
         codec="sjis", cte="8bit", subject="ログインできない件の補足（山﨑）", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[],
             fields_contain={
                 "circumstances": ["ブラウザ:Microsoft Edge 131", "「次回から自動ログイン」にチェックを入れた場合のみ発生"],
                 "error_messages": ["(AUTH-1003)", "POST /api/session 401 (Unauthorized)"]},
             fields_exclude=["TEL: 03-1234-5690", "やまさき みさき"],
             subject_contains=["山﨑"],
             body_contains=["アクメの山﨑です", "髙橋からご連絡した", "(ⅰ) ブラウザ", "山﨑 美咲"]))

    # ---- ISO-2022-JP body in quoted-printable (zammad#2498); headings with the content on
    #      the following lines; HTTP 500.
    body = T("""
サポートご担当者様

いつもお世話になっております。
アクメ運用チームの佐藤です。

本日朝から、在庫照会APIの呼び出しが断続的に失敗しております。

現象
在庫照会API（GET /v2/stock）を呼び出すと、約3回に1回の割合でHTTP 500が返ります。

再現手順
curl -H "Authorization: Bearer <token>" "https://api.example.jp/v2/stock?item=A-100" を10回連続で実行する

エラーメッセージ
HTTP/1.1 500 Internal Server Error
{"error":"internal_error","request_id":"req-8f3a21c9"}

発生状況
2026年11月25日 8:40頃から発生しています。同時刻に当社側の変更はありません。

以上です。よろしくお願いいたします。

佐藤 花子
株式会社アクメ 運用チーム
""")
    mail("notes-iso2022jp-quoted-printable", who=SATO, when=(2026, 11, 25, 9, 3, 11), client="notes",
         cte="quoted-printable", subject="在庫照会APIでHTTP 500が発生します", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["約3回に1回の割合でHTTP 500が返ります"],
                 "repro_steps": ["/v2/stock?item=A-100", "10回連続で実行する"],
                 "error_messages": ["HTTP/1.1 500 Internal Server Error", "req-8f3a21c9"],
                 "circumstances": ["8:40頃から発生しています"]},
             fields_exclude=GREET_JA[:1],
             subject_contains=["在庫照会APIでHTTP 500が発生します"],
             body_contains=["在庫照会API（GET /v2/stock）", "{\"error\":\"internal_error\",\"request_id\":\"req-8f3a21c9\"}"]))

    # ---- ISO-2022-JP body in base64; 契約番号 with full-width value; ■ headings; full-width
    #      numbered steps １．; ＝＝＝ signature with address and phone.
    body = T("""
株式会社ウケツケ サポートセンター 御中

いつも大変お世話になっております。
さくら物流の鈴木でございます。

配送伝票の一括印刷について、不具合と思われる事象がございましたのでご報告いたします。

契約番号：ＳＡＫＵＲＡ－０３０１

■ 現象
配送伝票を50件以上選択して一括印刷すると、51件目以降が印刷されません。

■ 手順
１．出荷管理 ＞ 配送伝票 を開く
２．出荷日「本日」で絞り込み、全件（約120件）を選択する
３．「一括印刷」を押す

■ エラーメッセージ
画面右上に「一部の伝票を印刷できませんでした（PRN-0051）」と表示されます。

■ 特記事項
毎日の出荷作業で使用しているため、現在は50件ずつに分けて印刷して対応しております。

ご確認のほど、よろしくお願い申し上げます。

＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝
さくら物流株式会社　業務推進部
鈴木 一郎
〒105-0011 東京都港区芝公園9-9-9
TEL：03-9876-5432　FAX：03-9876-5433
＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝＝
""")
    mail("iso2022jp-base64-fullwidth", who=SUZUKI, when=(2026, 11, 24, 14, 20, 0), client="outlook",
         cte="base64", subject="配送伝票の一括印刷で51件目以降が印刷されない", body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["51件目以降が印刷されません"],
                 "repro_steps": ["出荷管理 > 配送伝票 を開く", "「一括印刷」を押す"],
                 "error_messages": ["一部の伝票を印刷できませんでした(PRN-0051)"],
                 "circumstances": ["50件ずつに分けて印刷して対応しております"]},
             fields_exclude=["TEL:03-9876-5432", "東京都港区芝公園9-9-9", "よろしくお願い申し上げます",
                             "いつも大変お世話になっております"],
             body_contains=["契約番号：ＳＡＫＵＲＡ－０３０１", "１．出荷管理 ＞ 配送伝票 を開く"]))

    # ---- ISO-2022-JP body, Content-Type WITHOUT a charset parameter (zammad#6144: stored as
    #      raw escapes because the bytes are valid UTF-8).  ORA-00942 + Java frame.
    body = T("""
サポートご担当者様

お世話になっております。アクメの山田です。

月次集計バッチが本日未明に異常終了しました。

お客様番号: ACME-0012

内容:
月次売上集計バッチ（MONTHLY_SALES_AGG）が異常終了し、11月分のレポートが作成されていません。

エラーメッセージ:
ORA-00942: 表またはビューが存在しません
	at jp.example.batch.SalesAggregator.run(SalesAggregator.java:214)

発生状況:
11月25日 02:00 の定期実行で発生しました。11月24日の実行は正常終了しています。

よろしくお願いいたします。
""")
    mail("outlook-iso2022jp-no-charset-param", who=YAMADA, when=(2026, 11, 25, 8, 31, 0),
         label=None, subject="月次集計バッチが ORA-00942 で異常終了しました", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[],
             missing=["repro_steps"],
             fields_contain={
                 "description": ["月次売上集計バッチ(MONTHLY_SALES_AGG)が異常終了し"],
                 "error_messages": ["ORA-00942: 表またはビューが存在しません", "SalesAggregator.java:214"],
                 "circumstances": ["02:00 の定期実行で発生しました"]},
             fields_exclude=["お世話になっております"],
             subject_contains=["月次集計バッチが ORA-00942 で異常終了しました"],
             body_contains=["月次売上集計バッチ（MONTHLY_SALES_AGG）", "ORA-00942: 表またはビューが存在しません"]))

    # ---- ISO-2022-JP body with NO Content-Type header at all (and no MIME-Version), LF line
    #      ends as stored in a Maildir.  Description only.
    body = T("""
サポートセンター様

お世話になっております。さくら物流の中村です。

倉庫別在庫表のダウンロードボタンを押しても何も起こらず、ファイルが保存されません。
先週までは同じ操作で保存できていました。

お手数ですがご確認をお願いします。

中村
""")
    mail("iso2022jp-no-content-type", who=NAKAMURA, when=(2026, 11, 24, 16, 48, 2), client="datula",
         no_ctype=True, mime_version=False, cte=None, line_end="lf",
         subject="倉庫別在庫表がダウンロードできません", body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[],
             missing=["repro_steps", "error_messages", "circumstances"],
             fields_contain={"description": ["倉庫別在庫表のダウンロードボタンを押しても何も起こらず"]},
             fields_exclude=["お世話になっております", "お手数ですがご確認をお願いします"],
             subject_contains=["倉庫別在庫表がダウンロードできません"],
             body_contains=["倉庫別在庫表のダウンロードボタン"]))

    # ---- Shift_JIS body mislabelled charset=iso-8859-1 (8bit).
    body = T("""
ご担当者様

いつもお世話になっております。
北斗システムの伊藤です。

お客様ID：HOKUTO-0555

現象：
ワークフローの承認ボタンを押すと画面が固まり、申請が承認されません。

再現手順：
1. ワークフロー > 承認待ち一覧 を開く
2. 申請番号 WF-20261124-0007 を開く
3. 「承認」を押す

エラーメッセージ：
Uncaught TypeError: Cannot read properties of undefined (reading 'approverId')

発生状況：
承認者が代理承認者を設定している申請でのみ発生します。

よろしくお願いいたします。
""")
    mail("sjis-mislabelled-iso8859-1", who=ITO, when=(2026, 11, 24, 13, 15, 9), client="datula",
         codec="sjis", cte="8bit", label="iso-8859-1", subject_hdr=ew("承認ボタンで画面が固まる", "sjis"),
         subject="承認ボタンで画面が固まる", body=body, exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["承認ボタンを押すと画面が固まり"],
                 "repro_steps": ["申請番号 WF-20261124-0007 を開く"],
                 "error_messages": ["Uncaught TypeError: Cannot read properties of undefined (reading 'approverId')"],
                 "circumstances": ["代理承認者を設定している申請でのみ発生します"]},
             fields_exclude=GREET_JA,
             subject_contains=["承認ボタンで画面が固まる"],
             body_contains=["北斗システムの伊藤です", "お客様ID：HOKUTO-0555"]))

    # ---- Shift_JIS labelled "CP932", quoted-printable; consultant of two customers names one.
    body = T("""
ウケツケ サポートセンター 御中

お世話になっております。
パートナーコンサルティングの渡辺です。波デザイン様の運用を代行しております。

顧客番号：NAMI-0777

概要：
画像ライブラリに10MBを超えるPNGをアップロードすると、進捗バーが99%のまま止まります。

再現手順：
1. 素材管理 > 画像ライブラリ を開く
2. 「アップロード」から 12MB の PNG ファイルを選択する
3. 進捗バーが99%で停止し、30分待っても完了しない

エラーメッセージ：
ブラウザのネットワークタブで PUT /upload/chunk が 413 Request Entity Too Large を返しています。

以上、よろしくお願いいたします。

渡辺 健太
パートナーコンサルティング株式会社
""")
    mail("sjis-label-cp932-qp", who=CONSULTANT, when=(2026, 11, 25, 10, 44, 0), client="outlook",
         codec="sjis", cte="quoted-printable", label="CP932", name_codec="jis",
         subject="画像アップロードが99%で止まる", body=body, exp=expect(
             language="ja", customer_id="NAMI-0777", feature_request=False, signals=[],
             missing=["circumstances"],
             fields_contain={
                 "description": ["進捗バーが99%のまま止まります"],
                 "repro_steps": ["12MB の PNG ファイルを選択する"],
                 "error_messages": ["413 Request Entity Too Large"]},
             fields_exclude=["お世話になっております", "パートナーコンサルティング株式会社"],
             subject_contains=["画像アップロードが99%で止まる"],
             body_contains=["顧客番号：NAMI-0777", "波デザイン様"]))

    # ---- Feature phone: Shift_JIS labelled "x-sjis", half-width katakana; unknown sender.
    body = T("""
ｻﾎﾟｰﾄｾﾝﾀｰ ご担当者様

お世話になります｡さくら物流の森です｡
外出先から携帯で失礼します｡

ｽﾏｰﾄﾌｫﾝｱﾌﾟﾘで受注登録ができません｡
保存ﾎﾞﾀﾝを押すと次のように表示されます｡

ｼｽﾃﾑｴﾗｰが発生しました｡(E-9001)

至急確認をお願いします｡
森
""")
    mail("mobile-xsjis-halfwidth-kana", who=MOBILE, when=(2026, 11, 24, 19, 22, 41), client="none",
         codec="sjis", cte="8bit", label="x-sjis", subject_hdr=ew("受注登録できません", "sjis"),
         subject="受注登録できません", body=body, exp=expect(
             language="ja", customer_id=None, feature_request=False, signals=[],
             fields_contain={
                 "description": ["スマートフォンアプリで受注登録ができません"],
                 "error_messages": ["システムエラーが発生しました。(E-9001)"]},
             fields_exclude=["お世話になります", "外出先から携帯で失礼します"],
             subject_contains=["受注登録できません"],
             body_contains=["ｼｽﾃﾑｴﾗｰが発生しました｡(E-9001)"]))

    # ---- Shift_JIS labelled "Windows-31J", base64; ① steps; 髙 in IBM rows (the bug report
    #      itself is about 髙 vs 高).
    body = T("""
サポートセンター 御中

いつもお世話になっております。
さくら物流 物流管理課の中村です。

入荷予定の取込で、一部の行がスキップされる事象が発生しております。

【概要】
入荷予定CSVを取り込むと、倉庫名が「髙島第二倉庫」の行だけ取り込まれません。

【再現手順】
① 入荷管理 > 入荷予定取込 を開く
② 倉庫名に「髙島第二倉庫」を含む入荷予定CSVを指定する
③ 「取込実行」を押す

【エラーメッセージ】
取込結果画面に「3行目: 倉庫マスタに存在しない倉庫名です（IMP-2204）」と表示されます。

【発生条件】
倉庫マスタには「髙島第二倉庫」で登録済みです。「高島第一倉庫」（はしご高でない方）の行は正常に取り込まれます。

よろしくお願いいたします。
""")
    mail("groupware-windows31j-base64", who=NAKAMURA, when=(2026, 11, 25, 11, 5, 0), client="none",
         codec="sjis", cte="base64", label="Windows-31J",
         extra=[("X-Mailer", "desknet's NEO V8.0")], subject="入荷予定の取込で「髙島第二倉庫」の行がスキップされる",
         subject_hdr=ew("入荷予定の取込で「髙島第二倉庫」の行が", "sjis", label="Windows-31J") + "\n " +
         ew("スキップされる", "sjis", label="Windows-31J"),
         body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["倉庫名が「髙島第二倉庫」の行だけ取り込まれません"],
                 "repro_steps": ["入荷管理 > 入荷予定取込 を開く", "「取込実行」を押す"],
                 "error_messages": ["倉庫マスタに存在しない倉庫名です(IMP-2204)"],
                 "circumstances": ["「高島第一倉庫」(はしご高でない方)の行は正常に取り込まれます"]},
             fields_exclude=GREET_JA,
             subject_contains=["「髙島第二倉庫」の行がスキップされる"],
             body_contains=["「髙島第二倉庫」", "① 入荷管理", "③ 「取込実行」を押す"]))

    # ---- ISO-2022-JP body labelled "ISO-2022-JP-MS"; ㈱ and ①; description from the free
    #      text between the greeting and the labelled blocks.
    body = T("""
ご担当者様

お世話になっております。アクメ運用チームの髙橋です。

取引先マスタの一括更新で、社名に「㈱」を含む取引先だけ更新に失敗します。

お客様番号：ACME-0012

【再現手順】
① 取引先マスタ > 一括更新 を開く
② 社名が「㈱サンプル商事」の行を含むExcelファイルを取り込む
③ 「更新」を押す

【エラーメッセージ】
行2: 社名に使用できない文字が含まれています（VAL-0310）

【発生状況】
「株式会社サンプル商事」と入力した場合は正常に更新されます。

以上、よろしくお願いいたします。
""")
    mail("iso2022jp-ms-label", who=TAKAHASHI, when=(2026, 11, 25, 13, 30, 0), client="none",
         label="ISO-2022-JP-MS", extra=[("X-Mailer", "Sylpheed 3.7.0 (GTK+ 2.24.33; i686-pc-mingw32)")],
         subject="社名に㈱を含む取引先が一括更新できません", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["社名に「(株)」を含む取引先だけ更新に失敗します"],
                 "repro_steps": ["取引先マスタ > 一括更新 を開く", "(株)サンプル商事"],
                 "error_messages": ["行2: 社名に使用できない文字が含まれています(VAL-0310)"],
                 "circumstances": ["「株式会社サンプル商事」と入力した場合は正常に更新されます"]},
             fields_exclude=["お世話になっております", "以上、よろしくお願いいたします"],
             subject_contains=["社名に㈱を含む取引先"],
             body_contains=["「㈱サンプル商事」", "① 取引先マスタ"]))

    # ---- ISO-2022-JP body labelled "CP50220"; Ⅲ and №.
    body = T("""
ご担当者様

お世話になっております。北斗システムの伊藤です。

お客様番号：HOKUTO-0555

【現象】
請求書№の採番が重複し、同じ番号の請求書が2件作成されました。

【再現手順】
1. 請求管理Ⅲ（新画面）で請求書を作成する
2. 同じ時刻に、別のユーザーが旧画面から請求書を作成する

【エラーメッセージ】
画面上のエラーはありません。監査ログに次の行が出ています。
ERROR: duplicate key value violates unique constraint "invoice_no_key"

【発生状況】
11月24日 15:02 に 請求書№ INV-2026-11-0451 が2件作成されました。

よろしくお願いいたします。
""")
    mail("iso2022jp-cp50220-label", who=ITO, when=(2026, 11, 25, 14, 2, 0), client="none",
         label="CP50220", extra=[("X-Mailer", "Shuriken 2016 [ja]")],
         subject="請求書№が重複して採番される（請求管理Ⅲ）", body=body, exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["請求書Noの採番が重複し"],
                 "repro_steps": ["請求管理III(新画面)で請求書を作成する"],
                 "error_messages": ["duplicate key value violates unique constraint \"invoice_no_key\""],
                 "circumstances": ["請求書No INV-2026-11-0451 が2件作成されました"]},
             subject_contains=["請求書№が重複", "請求管理Ⅲ"],
             body_contains=["請求書№の採番", "請求管理Ⅲ（新画面）"]))

    # ---- EUC-JP body (Emacs/Mew), LF line ends; consultant names HOKUTO-0555; indented
    #      values under headings; "-- " signature; "再現手順は不明" = steps missing.
    body = T("""
ウケツケ サポート御中

パートナーコンサルティングの渡辺です。
北斗システム様の件でご連絡いたします。

お客様番号: HOKUTO-0555

現象:
  夜間のデータ連携ジョブ(hokuto-sync)が 03:00 以降すべてタイムアウトしています。

エラーメッセージ:
  sync-agent[2231]: ERROR upstream timed out (110: Connection timed out) while reading response header from upstream
  sync-agent[2231]: ERROR job hokuto-sync aborted after 3 retries

発生状況:
  11/25 03:00 JST 以降。11/24 までは正常に完了していました。
  連携先サーバ側の再起動は実施済みです。

再現手順は不明です(夜間ジョブでのみ発生)。

<SIGSEP>
渡辺 健太 <consultant@partner.example.net>
パートナーコンサルティング株式会社
""")
    mail("mew-eucjp-consultant-hokuto", who=CONSULTANT, when=(2026, 11, 25, 7, 55, 30), client="mew",
         codec="euc", cte="8bit", line_end="lf",
         subject="北斗システム様 夜間連携ジョブのタイムアウト", body=body, exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[],
             missing=["repro_steps"],
             fields_contain={
                 "description": ["夜間のデータ連携ジョブ(hokuto-sync)が 03:00 以降すべてタイムアウト"],
                 "error_messages": ["upstream timed out (110: Connection timed out)", "aborted after 3 retries"],
                 "circumstances": ["11/24 までは正常に完了していました", "再起動は実施済みです"]},
             fields_exclude=["パートナーコンサルティング株式会社"],
             subject_contains=["夜間連携ジョブのタイムアウト"],
             body_contains=["北斗システム様の件でご連絡いたします", "sync-agent[2231]: ERROR job hokuto-sync aborted after 3 retries"]))

    # ---- UTF-8 8bit (Thunderbird, format=flowed) with backslashes that must survive.
    body = T(r"""
サポートご担当者様

お世話になっております。アクメ運用チームの佐藤です。

Windows版の同期エージェントが起動直後に停止します。

お客様番号：ACME-0012

■ 現象
サービス「Uketsuke Sync Agent」を開始すると、数秒で停止します。

■ 再現手順
1. C:\ProgramData\Uketsuke\agent.toml の include_pattern に "\\fileserver\share\受注\*.csv" を指定する
2. "C:\Program Files\Uketsuke\Agent\agent.exe" --service を実行する

■ エラーメッセージ
C:\ProgramData\Uketsuke\logs\agent.log に以下が出力されます。
ERROR config: invalid escape sequence "\s" in include_pattern at line 12

■ 発生状況
バージョン 3.2.0 から 3.3.1 に更新した直後から発生しています。

よろしくお願いいたします。
<SIGSEP>
佐藤 花子 / 株式会社アクメ 運用チーム
""")
    mail("thunderbird-utf8-8bit-backslashes", who=SATO, when=(2026, 11, 25, 15, 40, 0),
         client="thunderbird", codec="utf8", cte="8bit", ctype_extra="; format=flowed",
         subject="同期エージェントが起動直後に停止します", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["数秒で停止します"],
                 "repro_steps": [r'"\\fileserver\share\受注\*.csv"', r'"C:\Program Files\Uketsuke\Agent\agent.exe" --service'],
                 "error_messages": [r'invalid escape sequence "\s" in include_pattern at line 12'],
                 "circumstances": ["3.2.0 から 3.3.1 に更新した直後"]},
             fields_exclude=["佐藤 花子 / 株式会社アクメ 運用チーム"],
             body_contains=[r"C:\ProgramData\Uketsuke\logs\agent.log", r'"\\fileserver\share\受注\*.csv"',
                            r'"\s"']))

    # ---- Gmail: multipart/alternative, both parts UTF-8 base64; sent from a private address
    #      (not a contact) but the text names the customer (顧客番号).
    body = T("""
サポートご担当者様

お世話になっております。株式会社アクメの山田です。
本日は在宅勤務のため、個人のアドレスから失礼いたします。

顧客番号：ACME-0012

詳細：
モバイルアプリ（iOS版 4.2.0）で、出荷指示に写真を添付して送信すると送信に失敗します。

手順：
1. アプリで出荷指示を開く
2. 「写真を追加」でカメラ撮影した写真を1枚添付する
3. 「送信」をタップする

エラーメッセージ：
送信に失敗しました。通信環境の良い場所で再度お試しください。(M-502)

特記事項：
Wi-Fi・モバイル回線のどちらでも発生します。写真を添付しない場合は送信できます。

よろしくお願いいたします。
山田
""")
    html = "<div dir=\"ltr\">" + "".join(
        ("<div>%s</div>" % l if l else "<div><br></div>") for l in body.rstrip("\n").split("\n")) + "</div>\n"
    content = ([("Content-Type", 'multipart/alternative; boundary="0000000000004f1a2b0627a1c3d4"')],
               multipart("0000000000004f1a2b0627a1c3d4", [
                   text_part(body, "utf8", "base64", "UTF-8"),
                   text_part(html, "utf8", "base64", "UTF-8", ctype="text/html")]))
    mail("gmail-utf8-base64-alternative", who=PRIVATE_YAMADA, when=(2026, 11, 25, 9, 12, 44),
         client="gmail", subject="モバイルアプリで写真付きの出荷指示が送信できません", codec="utf8",
         content=content, body_src=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["出荷指示に写真を添付して送信すると送信に失敗します"],
                 "repro_steps": ["「写真を追加」でカメラ撮影した写真を1枚添付する", "「送信」をタップする"],
                 "error_messages": ["通信環境の良い場所で再度お試しください。(M-502)"],
                 "circumstances": ["Wi-Fi・モバイル回線のどちらでも発生します"]},
             fields_exclude=["個人のアドレスから失礼いたします", "<div>", "dir=\"ltr\""],
             subject_contains=["モバイルアプリで写真付きの出荷指示が送信できません"],
             body_contains=["顧客番号：ACME-0012", "(M-502)"]))

    # ---- iPhone: UTF-8 quoted-printable text + inline JPEG; "iPhoneから送信" signature.
    body = T("""
サポートセンター様

お世話になっております。さくら物流の中村です。
外出先のため、取り急ぎご連絡いたします。

倉庫のハンディ端末でピッキングリストのバーコードを読み取ると、「該当する出荷指示がありません」と表示されて先に進めません。
画面の写真を添付します。

中村

iPhoneから送信
""")
    content = ([("Content-Type", 'multipart/mixed; boundary="Apple-Mail-5E1F0B7A-9C3D-4B2E-8F6A-1D2C3B4A5E6F"')],
               multipart("Apple-Mail-5E1F0B7A-9C3D-4B2E-8F6A-1D2C3B4A5E6F", [
                   text_part(body, "utf8", "quoted-printable", "utf-8"),
                   binary_part(fake_jpeg("IMG_0412"), 'image/jpeg; name=IMG_0412.JPG; x-apple-part-url=5F3C1A2B-0D4E-4F60-9A8B-7C6D5E4F3A2B',
                               "inline; filename=IMG_0412.JPG")]))
    mail("iphone-utf8-qp-inline-photo", who=NAKAMURA, when=(2026, 11, 25, 12, 31, 8), client="iphone",
         subject="ハンディ端末でバーコードが読めません", codec="utf8", content=content, body_src=body,
         attachments=["IMG_0412.JPG"], exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[],
             fields_contain={
                 "description": ["ピッキングリストのバーコードを読み取ると"]},
             fields_exclude=["iPhoneから送信", "取り急ぎご連絡いたします"],
             subject_contains=["ハンディ端末でバーコードが読めません"],
             body_contains=["「該当する出荷指示がありません」"],
             attachments=[{"filename": "IMG_0412.JPG", "content_type": "image/jpeg"}]))

    # ---- Subject in ISO-2022-JP split over three encoded-words with the cuts falling inside
    #      two-byte characters (the 2nd/3rd words start mid-character, without ESC $ B).
    subj = "【至急】受注登録画面でタイムアウトが頻発しています"
    body = T("""
サポートご担当者様

お世話になっております。アクメの山田です。

本日10時頃から、受注登録画面で保存ボタンを押すとタイムアウトになる事象が頻発しています。
社内の受注担当者20名全員で発生しており、業務に支障が出ております。

エラーメッセージ：
504 Gateway Time-out

至急ご確認をお願いいたします。
""")
    mail("subject-iso2022jp-split-midchar", who=YAMADA, when=(2026, 11, 25, 10, 21, 3), client="none",
         extra=[("X-Mailer", "AL-Mail32 Version 1.13")], subject=subj,
         subject_hdr=ew_split_bytes(subj, "jis", [12, 32]), body=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[],
             fields_contain={
                 "description": ["保存ボタンを押すとタイムアウトになる事象が頻発しています"],
                 "error_messages": ["504 Gateway Time-out"]},
             fields_exclude=["至急ご確認をお願いいたします"],
             subject_contains=[subj],
             body_contains=["受注担当者20名全員で発生"]))

    # ---- Subject in UTF-8 base64 encoded-words cut inside a 3-byte character.
    subj = "出荷実績レポートの数値が出荷一覧と一致しません"
    body = T("""
ご担当者様

お世話になっております。さくら物流の吉田です。

出荷実績レポートの「出荷件数」が、出荷一覧画面の件数と一致しません。

内容：
11月24日分の出荷実績レポートでは出荷件数が 1,184件 ですが、出荷一覧で同日を検索すると 1,191件 です。

期待される結果：
レポートと一覧の件数が一致すること。

ご確認よろしくお願いいたします。
吉田
""")
    mail("subject-utf8-base64-split-midchar", who=YOSHIDA, when=(2026, 11, 25, 16, 3, 27), client="gmail",
         codec="utf8", cte="base64", subject=subj, subject_hdr=ew_split_bytes(subj, "utf8", [10, 38]),
         body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[],
             fields_contain={
                 "description": ["1,184件", "レポートと一覧の件数が一致すること"]},
             fields_exclude=["ご確認よろしくお願いいたします"],
             subject_contains=[subj],
             body_contains=["出荷件数が 1,184件 ですが"]))

    # ---- Raw 8-bit Shift_JIS in the Subject (and From name) header; body Shift_JIS 8bit;
    #      dashed signature block with address, phone and mobile numbers.
    subj = "帳票出力でメモリ不足エラー（RPT-9001）"
    body = T("""
北斗システム 基盤運用グループの木村です。

帳票出力でエラーが発生するため、調査をお願いします。

現象：月末の請求書一括出力（約3,000件）で処理が途中で終了します。
エラーメッセージ：java.lang.OutOfMemoryError: Java heap space (RPT-9001)
発生状況：1,000件以下に分割すれば出力できます。

よろしくお願いします。

-----------------------------------------
北斗システム株式会社 基盤運用グループ
木村 大輔 (Daisuke Kimura)
〒060-0001 札幌市中央区北1条西99-9
Tel: 011-555-0123  Mobile: 090-5555-0123
-----------------------------------------
""")
    mail("subject-raw-8bit-sjis", who=KIMURA, when=(2026, 11, 25, 17, 12, 0), client="none",
         codec="sjis", cte="8bit", extra=[("X-Mailer", "Active! mail 6")], subject=subj,
         subject_hdr=sjis(subj), from_hdr=sjis("木村 大輔") + b" <kimura@hokuto.example.jp>",
         body=body, exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[],
             missing=["repro_steps"],
             fields_contain={
                 "description": ["月末の請求書一括出力(約3,000件)で処理が途中で終了します"],
                 "error_messages": ["java.lang.OutOfMemoryError: Java heap space (RPT-9001)"],
                 "circumstances": ["1,000件以下に分割すれば出力できます"]},
             fields_exclude=["011-555-0123", "090-5555-0123", "札幌市中央区北1条西99-9", "Daisuke Kimura"],
             subject_contains=[subj],
             body_contains=["基盤運用グループの木村です"]))


INOUE = ("井上 亮", "inoue@ops.acme.example.jp")


def mails_mime():
    # ---- RFC 2231 file name in ISO-2022-JP with an NEC special character (Becky!).
    body = T("""
サポートセンター御中

お世話になります。アクメの山﨑です。

レポート画面のグラフが表示されなくなりました。
画面のスクリーンショットを添付いたします。

お客様番号：ACME-0012

【再現手順】
1. レポート > 売上推移 を開く
2. 集計単位を「週次」に切り替える

【エラーメッセージ】
グラフを描画できませんでした。(CHART-0042)

よろしくお願いいたします。
""")
    fname = "エラー画面①.png"
    fparam = "ISO-2022-JP''" + pct2231(jis(fname))
    content = ([("Content-Type", 'multipart/mixed;\n boundary="------------Becky-20261125-1203"')],
               multipart("------------Becky-20261125-1203", [
                   text_part(body, "jis", "7bit"),
                   binary_part(fake_png(fname), "image/png;\n name*=" + fparam,
                               "attachment;\n filename*=" + fparam)],
                   preamble=b"This is a multi-part message in MIME format.\n\n"))
    mail("rfc2231-iso2022jp-filename", who=YAMASAKI, when=(2026, 11, 25, 12, 3, 0), client="becky",
         subject="売上推移レポートのグラフが表示されない", content=content, body_src=body,
         attachments=[fname], exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[],
             missing=["circumstances"],
             fields_contain={
                 "description": ["レポート画面のグラフが表示されなくなりました"],
                 "repro_steps": ["集計単位を「週次」に切り替える"],
                 "error_messages": ["グラフを描画できませんでした。(CHART-0042)"]},
             subject_contains=["売上推移レポートのグラフが表示されない"],
             attachments=[{"filename": fname, "content_type": "image/png"}]))

    # ---- RFC 2231 UTF-8 file name with continuations (filename*0*= / *1*= / *2*=), the
    #      pieces cut inside UTF-8 characters (Thunderbird); English labels in a Japanese mail.
    body = T("""
ウケツケ サポートセンター御中

いつもお世話になっております。北斗システムの伊藤です。

本日発生した受注データ連携の停止について、弊社でまとめた障害報告書を添付いたします。
原因の調査をお願いできますでしょうか。

お客様番号：HOKUTO-0555

Description:
受注データ連携（REST API → 基幹システム）が 09:12 から 09:47 まで停止しました。

Error message:
503 Service Unavailable: upstream connect error or disconnect/reset before headers. reset reason: overflow

Circumstances:
同時間帯に弊社側で月次締め処理を実行しており、通常の約5倍のリクエストが発生していました。

よろしくお願いいたします。
""")
    fname = "障害報告書_受注データ連携停止_2026年11月25日_北斗システム.pdf"
    raw = pct2231(fname.encode("utf-8"))
    # cut the percent-encoded string on %XX boundaries, but inside UTF-8 characters
    toks = re.findall(r"%[0-9A-F]{2}|[^%]", raw)
    c1, c2 = 20, 58                       # token indexes: 20 = 7th byte of 3rd char... (mid-char)
    p0, p1, p2 = "".join(toks[:c1]), "".join(toks[c1:c2]), "".join(toks[c2:])
    disp = ("attachment;\n filename*0*=UTF-8'ja'%s;\n filename*1*=%s;\n filename*2*=%s" % (p0, p1, p2))
    ctp = ("application/pdf;\n name*0*=UTF-8'ja'%s;\n name*1*=%s;\n name*2*=%s" % (p0, p1, p2))
    content = ([("Content-Type", 'multipart/mixed; boundary="------------0Zq8b3VfT2yXgK1nLw4RcDpA"'),
                ("Content-Language", "ja")],
               multipart("------------0Zq8b3VfT2yXgK1nLw4RcDpA", [
                   text_part(body, "utf8", "8bit", "UTF-8", extra_ct="; format=flowed"),
                   binary_part(fake_pdf(fname), ctp, disp)],
                   preamble=b"This is a multi-part message in MIME format.\n"))
    mail("rfc2231-utf8-filename-continuations", who=ITO, when=(2026, 11, 25, 11, 58, 0),
         client="thunderbird", codec="utf8", subject="受注データ連携停止（09:12〜09:47）の調査依頼",
         content=content, body_src=body, attachments=[fname], exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[],
             missing=["repro_steps"],
             fields_contain={
                 "description": ["09:12 から 09:47 まで停止しました"],
                 "error_messages": ["503 Service Unavailable: upstream connect error"],
                 "circumstances": ["通常の約5倍のリクエストが発生していました"]},
             fields_exclude=["いつもお世話になっております"],
             subject_contains=["受注データ連携停止（09:12〜09:47）の調査依頼"],
             attachments=[{"filename": fname, "content_type": "application/pdf"}]))

    # ---- Outlook follow-up with the attachment name as an RFC 2047 word inside the quoted
    #      name= / filename= parameters (what Outlook really sends), NEC characters in it;
    #      Japanese Outlook quote header (差出人: / 送信日時: / 宛先: / 件名:).
    subj = "RE: [CASE-2026-000131] Re: 帳票Ⅲ型のPDF出力で①②や㈱が「?」になります（伝票№指定時）"
    body = T("""
ウケツケ サポートセンター
ご担当者様

お世話になっております。アクメの山田です。
ご依頼いただいた出力結果のファイルを添付いたします。

発生状況：
同じ伝票を帳票Ⅱ型で出力した場合は「㈱」「①」とも正しく出力されることを確認しました。
Excel出力（帳票Ⅲ型）でも同じ文字が「?」になります。

よろしくお願いいたします。

山田

________________________________
差出人: ウケツケ サポートセンター <support@uketsuke.example.jp>
送信日時: 2026年11月24日 11:20
宛先: 山田 太郎 <yamada@acme.example.jp>
件名: [CASE-2026-000131] Re: 帳票Ⅲ型のPDF出力で①②や㈱が「?」になります（伝票№指定時）

山田 太郎 様

ウケツケ サポートセンターです。お問い合わせを受け付けました。
受付番号：CASE-2026-000131
お手数ですが、出力結果のファイルをお送りいただけますでしょうか。
""")
    fname = "出力結果_帳票Ⅲ型_①.xlsx"
    wname = ew(fname, "jis", label="iso-2022-jp")
    xl = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    content = ([("Content-Type", 'multipart/mixed;\n\tboundary="_002_TYCPR01MB8A4F3C2D1E0B9A87C6D5E4F3TYCPR01MB8A4F_"')],
               multipart("_002_TYCPR01MB8A4F3C2D1E0B9A87C6D5E4F3TYCPR01MB8A4F_", [
                   text_part(body, "jis", "7bit", "iso-2022-jp"),
                   binary_part(fake_xlsx(fname), '%s;\n\tname="%s"' % (xl, wname),
                               'attachment;\n\tfilename="%s"; size=%d' % (wname, len(fake_xlsx(fname))))]))
    mail("outlook-followup-rfc2047-attachment-name", who=YAMADA, when=(2026, 11, 24, 15, 47, 0),
         subject=subj, content=content, body_src=body, attachments=[fname],
         subject_hdr="RE: [CASE-2026-000131] Re:\n " + ew("帳票Ⅲ型のPDF出力で①②や㈱が", "jis", label="iso-2022-jp")
         + "\n " + ew("「?」になります（伝票№指定時）", "jis", label="iso-2022-jp"),
         in_reply_to="<7a1c9e02d4f1.5b3e8a10@uketsuke.example.jp>",
         references="<7a1c9e02d4f1.5b3e8a10@uketsuke.example.jp>", exp=expect(
             language="ja", customer_id="ACME-0012", case_ref="CASE-2026-000131", action="followup",
             signals=[],
             fields_contain={
                 "circumstances": ["帳票II型で出力した場合は「(株)」「1」とも正しく出力される"]},
             fields_exclude=["お問い合わせを受け付けました", "出力結果のファイルをお送りいただけますでしょうか",
                             "送信日時: 2026年11月24日 11:20"],
             subject_contains=["[CASE-2026-000131]", "帳票Ⅲ型のPDF出力で①②や㈱が「?」になります（伝票№指定時）"],
             body_contains=["「㈱」「①」とも正しく出力される"],
             attachments=[{"filename": fname, "content_type": xl}]))

    # ---- HTML-only (UTF-8, quoted-printable): <br>, <p>, <div>, entities, &#12354;, and
    #      <style>/<script> whose content must not appear anywhere.
    html = T("""
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css">p { margin: 0 } .sig { color: #888888 } /* STYLE-SHOULD-NOT-APPEAR */</style>
<script type="text/javascript">var trackingId = "SCRIPT-SHOULD-NOT-APPEAR"; if (a < b && c) { x(); }</script>
</head>
<body>
<div>ご担当者様</div><div><br></div>
<div>お世話になっております。北斗システムの伊藤です。</div><div><br></div>
<div>お客様番号：HOKUTO-0555</div><div><br></div>
<p><b>【現象】</b><br>取引先名に「A&amp;B商事」を指定して検索すると、検索結果が0件になります。</p>
<p><b>【再現手順】</b><br>1. 取引先マスタ &gt; 検索 を開く<br>2. 取引先名に「A&amp;B商事」と入力して「検索」を押す</p>
<p><b>【エラーメッセージ】</b><br>&lt;検索条件が不正です&gt; (code:&nbsp;Q-2207)</p>
<p><b>【発生状況】</b><br>取引先名に「&amp;」を含む場合のみ発生します。「&#12354;&#12356;うえお商事」などは正常に検索できます。</p>
<div><br></div><div>よろしくお願いいたします。</div>
<div class="sig">--<br>北斗システム株式会社 伊藤 翔<br>TEL 011-555-0100</div>
</body></html>
""")
    rendered = T("""
ご担当者様

お世話になっております。北斗システムの伊藤です。

お客様番号：HOKUTO-0555

【現象】
取引先名に「A&B商事」を指定して検索すると、検索結果が0件になります。
【再現手順】
1. 取引先マスタ > 検索 を開く
2. 取引先名に「A&B商事」と入力して「検索」を押す
【エラーメッセージ】
<検索条件が不正です> (code:\u00a0Q-2207)
【発生状況】
取引先名に「&」を含む場合のみ発生します。「あいうえお商事」などは正常に検索できます。

よろしくお願いいたします。
--
北斗システム株式会社 伊藤 翔
TEL 011-555-0100
""")
    mail("html-only-entities-style-script", who=ITO, when=(2026, 11, 25, 15, 5, 0), client="none",
         extra=[("X-Mailer", "Microsoft Outlook on the web")],
         codec="utf8", cte="quoted-printable", label="utf-8", ctype="text/html",
         subject="取引先名に & を含むと検索できません", body=html, body_src=rendered, exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["「A&B商事」を指定して検索すると、検索結果が0件になります"],
                 "repro_steps": ["取引先マスタ > 検索 を開く", "「A&B商事」と入力して「検索」を押す"],
                 "error_messages": ["<検索条件が不正です> (code: Q-2207)"],
                 "circumstances": ["「&」を含む場合のみ発生します", "「あいうえお商事」などは正常に検索できます"]},
             fields_exclude=["SHOULD-NOT-APPEAR", "margin: 0", "trackingId", "&amp;", "&gt;", "&#12354;",
                             "<b>", "<br>", "011-555-0100"],
             subject_contains=["取引先名に & を含むと検索できません"],
             body_contains=["「A&B商事」", "<検索条件が不正です>", "「あいうえお商事」"]))

    # ---- HTML-only English from Outlook (MsoNormal styles, <o:p>), Priority: High declared.
    html = T("""
<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv="Content-Type" content="text/html; charset=us-ascii">
<style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
@page WordSection1 {size:612.0pt 792.0pt;}
--></style></head>
<body lang="EN-US" link="#0563C1" vlink="#954F72">
<div class="WordSection1">
<p class="MsoNormal">Hello Support,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal"><b>Priority: High</b><o:p></o:p></p>
<p class="MsoNormal">Customer ID: GLOBEX-0042<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Summary: every invoice PDF generated since 02:00 UTC today is blank (0 pages).<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Steps to reproduce:<o:p></o:p></p>
<p class="MsoNormal">1. Open Billing &gt; Invoices<o:p></o:p></p>
<p class="MsoNormal">2. Open any invoice created today and click &quot;Download PDF&quot;<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Error message: Acrobat says &quot;There was an error processing a page. There was a problem reading this document (14).&quot;<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Environment: production tenant globex-prod, all browsers; invoices created before 02:00 UTC are fine.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">This blocks our month-end billing run, so please treat it urgently.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Best regards,<o:p></o:p></p>
<p class="MsoNormal">Priya Nair<o:p></o:p></p>
<p class="MsoNormal">Finance Systems | Globex Corporation<o:p></o:p></p>
<p class="MsoNormal">Phone +1 555 0100 2231<o:p></o:p></p>
</div>
</body>
</html>
""")
    rendered = T("""
Hello Support,

Priority: High
Customer ID: GLOBEX-0042

Summary: every invoice PDF generated since 02:00 UTC today is blank (0 pages).

Steps to reproduce:
1. Open Billing > Invoices
2. Open any invoice created today and click "Download PDF"

Error message: Acrobat says "There was an error processing a page. There was a problem reading this document (14)."

Environment: production tenant globex-prod, all browsers; invoices created before 02:00 UTC are fine.

This blocks our month-end billing run, so please treat it urgently.

Best regards,
Priya Nair
Finance Systems | Globex Corporation
Phone +1 555 0100 2231
""")
    mail("outlook-html-only-english-priority-high", who=NAIR, when=(2026, 11, 25, 18, 40, 0),
         codec="ascii", cte="quoted-printable", label="us-ascii", ctype="text/html",
         subject="URGENT: invoice PDFs are blank since 02:00 UTC", body=html, body_src=rendered,
         extra=[("Thread-Topic", "URGENT: invoice PDFs are blank since 02:00 UTC"),
                ("Accept-Language", "en-US"), ("Content-Language", "en-US"), ("X-MS-Has-Attach", ""),
                ("X-MS-TNEF-Correlator", "")],
         exp=expect(
             language="en", customer_id="GLOBEX-0042", priority="high", feature_request=False, signals=[],
             missing=[],
             fields_contain={
                 "description": ["every invoice PDF generated since 02:00 UTC today is blank (0 pages)"],
                 "repro_steps": ["Open Billing > Invoices", "click \"Download PDF\""],
                 "error_messages": ["There was a problem reading this document (14)."],
                 "circumstances": ["production tenant globex-prod"]},
             fields_exclude=["MsoNormal", "WordSection1", "Calibri", "+1 555 0100 2231", "&quot;", "&nbsp;",
                             "Best regards"],
             body_contains=["Open Billing > Invoices", "click \"Download PDF\""]))

    # ---- Thunderbird multipart/alternative, both ISO-2022-JP; the text/plain part is read.
    body = T("""
サポート担当者様

お世話になっております。アクメ運用チームの井上です。

Webhook通知が届かなくなりましたので、調査をお願いいたします。

現象：
受注確定時のWebhook（order.confirmed）が、11月24日 18:00以降、弊社のエンドポイントに届いていません。

再現手順：
1. テスト環境で受注を1件登録し、確定する
2. 弊社エンドポイント https://hooks.acme.example.jp/uketsuke のアクセスログを確認する

エラーメッセージ：
管理画面のWebhook配信履歴に「delivery failed: x509: certificate has expired or is not yet valid」と表示されています。

発生状況：
弊社エンドポイントのサーバ証明書を、11月24日 17:30 に更新しています。

よろしくお願いいたします。
<SIGSEP>
井上 亮 / 株式会社アクメ 運用チーム
""")
    paras = body.rstrip("\n").split("\n\n")
    html = ('<html>\n  <head>\n    <meta http-equiv="content-type" content="text/html; charset=ISO-2022-JP">\n'
            '  </head>\n  <body>\n' + "".join("    <p>%s</p>\n" % p.replace("\n", "<br>\n      ") for p in paras)
            + '  </body>\n</html>\n')
    content = ([("Content-Type", 'multipart/alternative;\n boundary="------------h7TQ2m0cVb6XyP9sLrK4eNwA"'),
                ("Content-Language", "ja")],
               multipart("------------h7TQ2m0cVb6XyP9sLrK4eNwA", [
                   text_part(body, "jis", "7bit", "ISO-2022-JP", extra_ct="; format=flowed; delsp=yes"),
                   text_part(html, "jis", "7bit", "ISO-2022-JP", ctype="text/html")],
                   preamble=b"This is a multi-part message in MIME format.\n"))
    mail("thunderbird-iso2022jp-alternative", who=INOUE, when=(2026, 11, 25, 9, 50, 0),
         client="thunderbird", subject="Webhook（order.confirmed）が届きません", content=content,
         body_src=body, exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["弊社のエンドポイントに届いていません"],
                 "repro_steps": ["テスト環境で受注を1件登録し、確定する"],
                 "error_messages": ["delivery failed: x509: certificate has expired or is not yet valid"],
                 "circumstances": ["サーバ証明書を、11月24日 17:30 に更新しています"]},
             fields_exclude=["<p>", "<br>", "井上 亮 / 株式会社アクメ 運用チーム"],
             subject_contains=["Webhook（order.confirmed）が届きません"],
             body_contains=["受注確定時のWebhook（order.confirmed）"]))

    # ---- The error text is only in an attached text/plain .log (base64).
    body = T("""
サポートご担当者様

いつもお世話になっております。アクメの山田です。

受注取込ジョブが失敗しておりますので、ジョブのログを添付いたします。

お客様番号：ACME-0012

【現象】
毎時実行の受注取込ジョブ（ORDER_IMPORT）が、11:00 の実行から毎回失敗しています。

【再現手順】
1. ジョブ管理 > ORDER_IMPORT を開く
2. 「今すぐ実行」を押す

【発生状況】
11月25日 10:30 に、取込元のSFTPフォルダの構成を変更しています。

詳細は添付のログをご確認ください。
よろしくお願いいたします。

<SIGSEP>
株式会社アクメ 情報システム部
山田 太郎
TEL: 03-1234-5678
""")
    log = T("""
2026-11-25 11:00:02,114 INFO  [ORDER_IMPORT] start run_id=7f2c1e
2026-11-25 11:00:02,870 INFO  [ORDER_IMPORT] listing sftp://sftp.acme.example.jp/outbound/orders
2026-11-25 11:00:03,015 ERROR [ORDER_IMPORT] import failed
java.lang.NullPointerException: Cannot invoke "java.nio.file.Path.getFileName()" because "file" is null
	at jp.example.importer.OrderImportJob.resolveFile(OrderImportJob.java:88)
	at jp.example.importer.OrderImportJob.run(OrderImportJob.java:41)
	at jp.example.scheduler.JobRunner.execute(JobRunner.java:129)
2026-11-25 11:00:03,016 INFO  [ORDER_IMPORT] end run_id=7f2c1e status=FAILED
""")
    logname = "order_import_20261125.log"
    content = ([("Content-Type", 'multipart/mixed;\n\tboundary="_004_TYCPR01MB77C1D2E3F4A5B6C7D8E9TYCPR01MB77C1_"')],
               multipart("_004_TYCPR01MB77C1D2E3F4A5B6C7D8E9TYCPR01MB77C1_", [
                   text_part(body, "jis", "7bit", "iso-2022-jp"),
                   entity([("Content-Type", 'text/plain; name="%s"' % logname),
                           ("Content-Description", logname),
                           ("Content-Disposition", 'attachment; filename="%s"; size=%d' % (logname, len(log.encode()))),
                           ("Content-Transfer-Encoding", "base64")], base64.encodebytes(log.encode("ascii")))]))
    mail("outlook-text-log-attachment", who=YAMADA, when=(2026, 11, 25, 11, 40, 0),
         subject="受注取込ジョブ（ORDER_IMPORT）が失敗します", content=content, body_src=body,
         extra_text=log, attachments=[logname], exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["11:00 の実行から毎回失敗しています"],
                 "repro_steps": ["「今すぐ実行」を押す"],
                 "error_messages": ["java.lang.NullPointerException", "OrderImportJob.java:88"],
                 "circumstances": ["SFTPフォルダの構成を変更しています"]},
             fields_exclude=["03-1234-5678"],
             attachments=[{"filename": logname, "content_type": "text/plain"}]))
