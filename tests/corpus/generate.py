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
             attachments=(), hidden: str = ""):
    MAILS.append((name, raw, exp, {"subject": subject, "body": body, "extra": extra_text,
                                    "attachments": list(attachments), "hidden": hidden}))


def mail(name, *, who, subject, when, body=None, codec="jis", cte="7bit", label="default",
         subject_hdr=None, client="outlook", to=None, cc=None, in_reply_to=None, references=None,
         recv=True, extra=(), content=None, body_src=None, extra_text="", attachments=(),
         no_ctype=False, mime_version=True, ctype="text/plain", ctype_extra="", return_path=None,
         line_end="crlf", exp=None, message_id=None, from_hdr=None, name_codec=None,
         date_hdr=None, hidden=""):
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
        host, ip = HOSTS.get(domain, ("mail." + domain, "192.0.2.200"))
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
             extra_text=extra_text, attachments=attachments, hidden=hidden)


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
         content=content, body_src=body, hidden=html, exp=expect(
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
         subject="取引先名に & を含むと検索できません", body=html, body_src=rendered, hidden=html, exp=expect(
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
         subject="URGENT: invoice PDFs are blank since 02:00 UTC", body=html, body_src=rendered, hidden=html,
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


OGAWA_QUOTE_NAME = "配車センター 小川"


def mails_structure():
    # ---- English, labelled, all items (Outlook, Globex); subject as UTF-8 Q encoded-word.
    body = T("""
Hello Support Team,

We have a problem with SAML single sign-on since this morning.

Customer ID: GLOBEX-0042

Description:
Users who sign in through our identity provider are redirected back to the login page after authenticating.

Steps to reproduce:
1. Open https://app.example.jp/login
2. Click "Sign in with SSO"
3. Authenticate at the IdP with any user of the globex.example.com domain

Error message:
SAML response rejected: InResponseTo does not match any request (code SSO-4407)

Expected result:
The user lands on the dashboard.

Environment:
Chrome 131 and Firefox 133 on Windows 11. It started after we rotated the IdP signing certificate on Nov 24.

Best regards,
John Miller
IT Operations | Globex Corporation
+1 555 0100 2000
""")
    subj = "SSO login loop \u2014 users are sent back to the login page"
    mail("english-labelled-all-items", who=MILLER, when=(2026, 11, 25, 10, 2, 0), codec="ascii",
         label="us-ascii", subject=subj,
         subject_hdr="SSO login loop " + ew("\u2014", "utf8", "Q", label="utf-8") + " users are sent back to the login page",
         body=body, exp=expect(
             language="en", customer_id="GLOBEX-0042", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["redirected back to the login page after authenticating", "The user lands on the dashboard."],
                 "repro_steps": ["Click \"Sign in with SSO\""],
                 "error_messages": ["SAML response rejected: InResponseTo does not match any request (code SSO-4407)"],
                 "circumstances": ["rotated the IdP signing certificate on Nov 24"]},
             fields_exclude=["Best regards", "+1 555 0100 2000", "IT Operations | Globex Corporation"],
             subject_contains=[subj]))

    # ---- English free text with an unlabelled Python traceback (Umbrella).
    body = T("""
Hi,

Our order sync script fails with the error below every time it calls your API.

Traceback (most recent call last):
  File "/opt/sync/sync_orders.py", line 142, in <module>
    main()
  File "/opt/sync/sync_orders.py", line 131, in main
    orders = client.list_orders(since=cursor)
  File "/opt/sync/uketsuke_client.py", line 57, in list_orders
    resp.raise_for_status()
requests.exceptions.HTTPError: 502 Server Error: Bad Gateway for url: https://api.example.jp/v2/orders?since=2026-11-24T00%3A00%3A00Z

Could you check whether something is wrong on your side?

Thanks,
Kenji Ito
Umbrella Systems K.K. | IT Desk
""")
    mail("english-freetext-python-traceback", who=UMBRELLA, when=(2026, 11, 25, 8, 15, 0), codec="ascii",
         label="us-ascii", client="thunderbird", subject="API returns 502 for /v2/orders", body=body,
         exp=expect(
             language="en", customer_id="UMBRELLA-0100", feature_request=False, signals=[],
             missing=["repro_steps", "circumstances"],
             fields_contain={
                 "description": ["Our order sync script fails"],
                 "error_messages": ["requests.exceptions.HTTPError: 502 Server Error: Bad Gateway",
                                    "uketsuke_client.py\", line 57, in list_orders"]},
             fields_exclude=["Umbrella Systems K.K. | IT Desk", "Kenji Ito"],
             subject_contains=["API returns 502 for /v2/orders"]))

    # ---- English Outlook: new report above an internal thread quoted in Outlook's
    #      "From: / Sent: / To: / Subject:" block, unprefixed.
    body = T("""
Hi team,

Please see the report from our warehouse team below. I can reproduce it on my PC as well.

Description: the stock transfer screen shows "Saving..." forever when the quantity has more than two decimal places.

Steps to reproduce:
1. Inventory > Transfers > New
2. Enter quantity 1.255 for any item
3. Click Save

Error message: nothing on the screen; the browser console shows
Uncaught (in promise) ValidationError: quantity must have at most 2 decimal places

Thanks,
John

John Miller
IT Operations | Globex Corporation
+1 555 0100 2000

________________________________
From: Lukas Weber <l.weber@globex.example.com>
Sent: Tuesday, November 24, 2026 6:12 PM
To: John Miller <j.miller@globex.example.com>
Subject: Transfers stuck on Saving

Hi John,

Environment: happens on both warehouse PCs since the update last Friday.
Could you raise it with the vendor? We can work around it by rounding to 2 decimals.

Lukas
""")
    mail("english-outlook-from-sent-block", who=MILLER, when=(2026, 11, 25, 10, 30, 0), codec="ascii",
         label="us-ascii", subject="FW: Transfers stuck on Saving", body=body, exp=expect(
             language="en", customer_id="GLOBEX-0042", feature_request=False, signals=[],
             missing=["circumstances"],
             fields_contain={
                 "description": ["shows \"Saving...\" forever"],
                 "repro_steps": ["Enter quantity 1.255 for any item", "Click Save"],
                 "error_messages": ["ValidationError: quantity must have at most 2 decimal places"]},
             fields_exclude=["happens on both warehouse PCs", "Could you raise it with the vendor",
                             "l.weber@globex.example.com", "+1 555 0100 2000", "rounding to 2 decimals"]))

    # ---- Japanese Outlook with "-----Original Message-----": the quoted internal mail has a
    #      labelled 発生状況 that must not be taken (so circumstances is missing).
    body = T("""
ウケツケ サポートセンター 御中

お世話になっております。さくら物流の鈴木です。
社内から以下の問い合わせがありましたので、ご報告いたします。

【現象】
配車計画画面で、12月以降の日付を選択するとカレンダーが表示されません。

【再現手順】
1. 配車管理 > 配車計画 を開く
2. 日付欄のカレンダーアイコンを押し、「次月」へ進む

【エラーメッセージ】
Uncaught RangeError: Invalid time value

よろしくお願いいたします。

-----Original Message-----
From: 配車センター 小川 <ogawa@sakura-logi.example.jp>
Sent: Tuesday, November 24, 2026 5:40 PM
To: 鈴木 一郎 <suzuki@sakura-logi.example.jp>
Subject: 配車計画のカレンダー

鈴木さん

発生状況：今日の夕方から、配車センターの全員のPCで起きています。
急ぎではありませんが、確認をお願いします。

小川
""")
    mail("outlook-original-message-block", who=SUZUKI, when=(2026, 11, 25, 9, 20, 0),
         subject="配車計画画面のカレンダーが表示されない", body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", feature_request=False, signals=[],
             missing=["circumstances"],
             fields_contain={
                 "description": ["12月以降の日付を選択するとカレンダーが表示されません"],
                 "repro_steps": ["配車管理 > 配車計画 を開く"],
                 "error_messages": ["Uncaught RangeError: Invalid time value"]},
             fields_exclude=["配車センターの全員のPC", "急ぎではありませんが", "ogawa@sakura-logi.example.jp",
                             "鈴木さん"]))

    # ---- Unknown sender (Gmail), description only, no customer ID anywhere.
    body = T("""
お世話になります。

御社のサービスを利用している会社の者ですが、スマートフォンから管理画面を開くとメニューが画面からはみ出してしまい、操作できません。
対応予定があれば教えてください。

田中
""")
    mail("unknown-sender-description-only", who=STRANGER, when=(2026, 11, 25, 21, 5, 0), client="gmail",
         codec="utf8", cte="base64", subject="スマホで管理画面が操作できない", body=body, exp=expect(
             language="ja", customer_id=None, feature_request=False, signals=[],
             missing=["customer_id", "repro_steps", "error_messages", "circumstances"],
             fields_contain={"description": ["メニューが画面からはみ出してしまい、操作できません"]},
             fields_exclude=["お世話になります"]))

    # ---- consultant@partner.example.net is a contact of two customers and names neither.
    body = T("""
ウケツケ サポートセンター御中

お世話になっております。パートナーコンサルティングの渡辺です。

CSVインポートで日付が1日前にずれて登録される事象を確認しましたので、ご報告いたします。

再現手順：
1. 顧客マスタ > CSVインポート を開く
2. 「契約開始日」列に 2026/12/01 を入力したCSVを取り込む
3. 登録された顧客の契約開始日が 2026/11/30 になっている

エラーメッセージ：
エラーは表示されず、取込結果は「成功 1件」と表示されます。

期待される結果：
CSVに入力した日付（2026/12/01）で登録されること。

よろしくお願いいたします。

渡辺 健太
パートナーコンサルティング株式会社
""")
    mail("consultant-two-customers-no-id", who=CONSULTANT, when=(2026, 11, 25, 13, 10, 0),
         subject="CSVインポートで日付が1日ずれる", body=body, exp=expect(
             language="ja", customer_id=None, feature_request=False, signals=[],
             missing=["customer_id", "circumstances"],
             fields_contain={
                 "description": ["日付が1日前にずれて登録される", "CSVに入力した日付(2026/12/01)で登録されること"],
                 "repro_steps": ["「契約開始日」列に 2026/12/01 を入力したCSVを取り込む"],
                 "error_messages": ["「成功 1件」"]},
             fields_exclude=["パートナーコンサルティング株式会社"]))

    # ---- tanaka@acme.example.jp: same domain as a contact address, but the contacts are only
    #      yamada@acme.example.jp and @ops.acme.example.jp, so no customer is inferred.
    body = T("""
サポートご担当者様

お世話になっております。
株式会社アクメ 経理部の田中と申します。

経費精算の承認依頼メールが承認者に届かなくなりました。

発生状況：
11月20日以降に申請した経費について、承認者に通知メールが届いていません。
それ以前の申請では届いていました。

よろしくお願いいたします。
""")
    mail("same-domain-not-a-contact", who=TANAKA, when=(2026, 11, 25, 14, 45, 0), client="outlook",
         subject="経費精算の承認依頼メールが届きません", body=body, exp=expect(
             language="ja", customer_id=None, feature_request=False, signals=[],
             missing=["customer_id", "repro_steps", "error_messages"],
             fields_contain={
                 "description": ["承認依頼メールが承認者に届かなくなりました"],
                 "circumstances": ["11月20日以降に申請した経費について"]},
             fields_exclude=["お世話になっております"]))

    # ---- Suspended customer (INITECH): reject whatever the content.
    body = T("""
サポートセンター様

お世話になっております。イニテックの小林です。

TPSレポートの出力画面が開きません。

エラーメッセージ：
HTTP 403 Forbidden

至急確認をお願いします。

小林 直樹
イニテック株式会社 システム課
""")
    mail("suspended-customer-initech", who=KOBAYASHI, when=(2026, 11, 25, 11, 11, 0), client="outlook",
         subject="TPSレポートの出力画面が開きません", body=body, exp=expect(
             language="ja", customer_id="INITECH-0007", feature_request=False, signals=[], action="reject",
             fields_contain={"error_messages": ["HTTP 403 Forbidden"],
                             "description": ["TPSレポートの出力画面が開きません"]},
             fields_exclude=["イニテック株式会社 システム課"]))


def mails_priority():
    # ---- 優先度：高 declared, production down.
    body = T("""
サポートご担当者様

お世話になっております。アクメ運用チームの髙橋です。

優先度：高

本番環境の管理画面に全ユーザーがログインできません。
現在、受注業務が停止しております。

エラーメッセージ：
502 Bad Gateway

発生状況：
11月26日 6:50頃から。社内ネットワーク・社外ネットワークのどちらからでも同じです。

至急ご対応をお願いいたします。
髙橋
""")
    mail("priority-declared-high-ja", who=TAKAHASHI, when=(2026, 11, 26, 7, 2, 0),
         subject="【緊急】本番環境にログインできません", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", priority="high", feature_request=False, signals=[],
             missing=["repro_steps"],
             fields_contain={
                 "description": ["全ユーザーがログインできません"],
                 "error_messages": ["502 Bad Gateway"],
                 "circumstances": ["6:50頃から"]},
             fields_exclude=["至急ご対応をお願いいたします"],
             subject_contains=["【緊急】本番環境にログインできません"]))

    # ---- 優先度: 中 (ASCII colon) declared; a problem with a workaround.
    body = T("""
ご担当者様

いつもお世話になっております。さくら物流の吉田です。

優先度: 中

現象：
出荷ラベルの印刷プレビューで、住所が3行を超えると4行目以降が切れて表示されます。

再現手順：
1. 出荷管理 > 出荷ラベル を開く
2. 住所が4行になる出荷先（例：出荷番号 S-20261125-0033）を選択する
3. 「印刷プレビュー」を押す

エラーメッセージ：
エラー表示はありません。

発生状況：
ラベルサイズを「A6」に変更すると全行表示されるため、当面はA6で運用しています。

よろしくお願いいたします。
""")
    mail("priority-declared-medium-ja", who=YOSHIDA, when=(2026, 11, 25, 15, 20, 0), client="gmail",
         codec="utf8", cte="base64", subject="出荷ラベルの住所が途中で切れる", body=body, exp=expect(
             language="ja", customer_id="SAKURA-0301", priority="medium", feature_request=False, signals=[],
             fields_contain={
                 "description": ["4行目以降が切れて表示されます"],
                 "repro_steps": ["出荷番号 S-20261125-0033"],
                 "circumstances": ["当面はA6で運用しています"]},
             fields_exclude=["いつもお世話になっております"]))

    # ---- 優先度：低 declared; a question.
    body = T("""
ウケツケ サポートセンター御中

お世話になっております。北斗システムの伊藤です。

優先度：低

APIのレート制限について質問です。
受注APIの1分あたりの呼び出し上限は、テナント単位でしょうか、それともAPIキー単位でしょうか。
来月からバッチ処理を並列化する予定のため、設計の参考にしたいと考えております。

お手すきの際にご回答いただけますと幸いです。
""")
    mail("priority-declared-low-question", who=ITO, when=(2026, 11, 25, 16, 10, 0),
         subject="APIのレート制限について（質問）", body=body, exp=expect(
             language="ja", customer_id="HOKUTO-0555", priority="low", feature_request=False, signals=[],
             fields_contain={"description": ["テナント単位でしょうか、それともAPIキー単位でしょうか"]},
             fields_exclude=["お手すきの際にご回答いただけますと幸いです"]))

    # ---- Nothing declared, no urgency at all: a how-to question -> profile default "low".
    body = T("""
サポートご担当者様

いつもお世話になっております。アクメの山田です。

操作方法について教えてください。
受注一覧で絞り込んだ条件を、次回も同じ条件で開けるように保存しておくことはできますでしょうか。
マニュアルの「受注一覧」の章を確認しましたが、該当する記載が見つかりませんでした。

お手数ですが、ご教示いただけますと幸いです。
よろしくお願いいたします。
""")
    mail("default-low-howto-question", who=YAMADA, when=(2026, 11, 25, 17, 30, 0),
         subject="受注一覧の絞り込み条件の保存方法について", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", priority="low", signals=[],
             fields_contain={"description": ["同じ条件で開けるように保存しておくことはできますでしょうか"]}))

    # ---- English "Priority: Medium" declared (Umbrella).
    body = T("""
Hello,

Priority: Medium

Summary: CSV exports of the audit log contain timestamps in UTC although the tenant time zone is Asia/Tokyo.

Steps to reproduce:
1. Settings > Audit log
2. Filter on Nov 24, 2026 and click "Export CSV"
3. Compare the "timestamp" column with the screen

Expected result: the export uses the tenant time zone like the screen does.

Environment: production tenant umbrella-jp; we convert the column by hand in the meantime.

Regards,
Kenji Ito
Umbrella Systems K.K. | IT Desk
""")
    mail("priority-declared-medium-en", who=UMBRELLA, when=(2026, 11, 25, 13, 0, 0), codec="ascii",
         label="us-ascii", client="thunderbird", subject="Audit log CSV export uses UTC", body=body, exp=expect(
             language="en", customer_id="UMBRELLA-0100", priority="medium", feature_request=False, signals=[],
             missing=["error_messages"],
             fields_contain={
                 "description": ["timestamps in UTC although the tenant time zone is Asia/Tokyo",
                                 "the export uses the tenant time zone"],
                 "repro_steps": ["click \"Export CSV\""],
                 "circumstances": ["production tenant umbrella-jp"]},
             fields_exclude=["Umbrella Systems K.K. | IT Desk"]))


def mails_four_severity():
    FS = "four-severity"
    # ---- Severity: 2, Account ID label, all items present (English, Globex platinum).
    body = T("""
Hi Support,

Severity: 2
Account ID: GLOBEX-0042

Description:
The purchase approval workflow no longer sends approval requests. Orders stay in "Pending approval" and nobody is notified, so purchasing is blocked for orders above 10,000 USD.

Steps to reproduce:
1. Create a purchase order above 10,000 USD
2. Submit it for approval
3. Check the approver's inbox and the notification bell

Error message:
Workflow engine log: WF-ERR-0193 No approver resolved for rule "PO>10000" (role "finance-approver" is empty)

Expected result:
The approver receives the request within a minute.

Circumstances:
Our HR sync deactivated two finance managers on Nov 24; smaller orders still work.

Best regards,
Anna Schmidt
Procurement Systems, Globex Corporation
""")
    mail("four-severity-sev2-all-items-en", who=SCHMIDT, when=(2026, 11, 25, 10, 45, 0), codec="ascii",
         label="us-ascii", subject="Purchase approvals not sent (Severity 2)", body=body, exp=expect(
             policy=FS, language="en", customer_id="GLOBEX-0042", priority="sev2", feature_request=False,
             signals=[], missing=[],
             fields_contain={
                 "description": ["Orders stay in \"Pending approval\"", "The approver receives the request within a minute."],
                 "repro_steps": ["Submit it for approval"],
                 "error_messages": ["WF-ERR-0193 No approver resolved for rule \"PO>10000\""],
                 "circumstances": ["deactivated two finance managers on Nov 24"]},
             fields_exclude=["Best regards", "Procurement Systems, Globex Corporation"]))

    # ---- 重要度：1, Japanese, all items (ACME gold).
    body = T("""
サポートご担当者様

いつもお世話になっております。株式会社アクメの山田です。

重要度：1
お客様番号：ACME-0012

【現象】
本番環境で受注データが保存されず、全拠点で受注業務が停止しています。

【再現手順】
1. 受注管理 > 新規受注 を開く
2. 任意の得意先・商品を入力して「保存」を押す

【エラーメッセージ】
データベースに接続できません。(DB-0001)
java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.

【期待される結果】
受注が保存され、受注番号が採番されること。

【発生状況】
11月25日 14:05 から全ユーザーで発生しています。

大至急ご対応をお願いいたします。
""")
    mail("four-severity-sev1-all-items-ja", who=YAMADA, when=(2026, 11, 25, 14, 12, 0),
         subject="【重要度1】本番環境で受注が保存できません", body=body, exp=expect(
             policy=FS, language="ja", customer_id="ACME-0012", priority="sev1", feature_request=False,
             signals=[], missing=[],
             fields_contain={
                 "description": ["全拠点で受注業務が停止しています", "受注番号が採番されること"],
                 "repro_steps": ["任意の得意先・商品を入力して「保存」を押す"],
                 "error_messages": ["データベースに接続できません。(DB-0001)", "HikariPool-1 - Connection is not available"],
                 "circumstances": ["14:05 から全ユーザーで発生しています"]},
             fields_exclude=["大至急ご対応をお願いいたします", "いつもお世話になっております"],
             subject_contains=["【重要度1】"]))

    # ---- 重要度レベル 1 declared, but steps and error text missing -> await_info.
    body = T("""
ウケツケ サポートセンター 御中

お世話になっております。さくら物流の鈴木です。

重要度レベル 1

倉庫の出荷指示画面が真っ白のまま表示されず、出荷作業が止まっています。

至急ご確認ください。

鈴木
""")
    mail("four-severity-sev1-items-missing", who=SUZUKI, when=(2026, 11, 25, 8, 20, 0),
         subject="出荷指示画面が表示されず出荷が止まっています", body=body, exp=expect(
             policy=FS, language="ja", customer_id="SAKURA-0301", priority="sev1", feature_request=False,
             signals=[], action="await_info",
             missing=["repro_steps", "error_messages", "circumstances"],
             fields_contain={"description": ["出荷指示画面が真っ白のまま表示されず"]}))

    # ---- Not an authorized contact (four-severity 4.1) -> reject.
    body = T("""
Hello,

I work with Globex on their warehouse project. The label printer integration returns an error for every shipment.

Error message: PRINT-4403 printer profile not found

Could you take a look?

Thanks,
Someone
""")
    mail("four-severity-unauthorized-sender", who=STRANGER, when=(2026, 11, 25, 11, 0, 0), client="gmail",
         codec="utf8", cte="7bit", subject="Label printer integration error", body=body, exp=expect(
             policy=FS, language="en", customer_id=None, feature_request=False, signals=[], action="reject",
             fields_contain={"error_messages": ["PRINT-4403 printer profile not found"]}))

    # ---- Consultant of two customers, no ID in the text: customer_id missing -> await_info.
    body = T("""
ウケツケ サポートセンター御中

お世話になっております。パートナーコンサルティングの渡辺です。

現象：
ダッシュボードの「今月の売上」ウィジェットが、11月分を表示せず10月分のままになっています。

再現手順：
1. ダッシュボードを開く
2. 「今月の売上」ウィジェットの対象月を確認する

エラーメッセージ：
ウィジェット右上に「データの取得に失敗しました (DSH-0502)」と表示されます。

よろしくお願いいたします。
""")
    mail("four-severity-consultant-no-id", who=CONSULTANT, when=(2026, 11, 25, 10, 5, 0),
         subject="ダッシュボードの売上ウィジェットが更新されない", body=body, exp=expect(
             policy=FS, language="ja", customer_id=None, feature_request=False, signals=[],
             action="await_info", missing=["customer_id", "circumstances"],
             fields_contain={
                 "description": ["10月分のままになっています"],
                 "repro_steps": ["「今月の売上」ウィジェットの対象月を確認する"],
                 "error_messages": ["データの取得に失敗しました (DSH-0502)"]}))

    # ---- 重要度：4 (minimal impact), all items present.
    body = T("""
ご担当者様

お世話になっております。北斗システムの伊藤です。

重要度：4
お客様番号：HOKUTO-0555

現象：
設定画面のヘルプリンク「詳しくはこちら」のリンク先が404になります。

再現手順：
1. 設定 > 通知設定 を開く
2. 画面下部の「詳しくはこちら」を押す

エラーメッセージ：
404 Not Found - The requested URL /help/notify-v1 was not found on this server.

発生状況：
11月24日のリリース以降です。業務への影響はほとんどありません。

よろしくお願いいたします。
""")
    mail("four-severity-sev4-all-items", who=ITO, when=(2026, 11, 25, 16, 40, 0),
         subject="通知設定画面のヘルプリンクが404になる", body=body, exp=expect(
             policy=FS, language="ja", customer_id="HOKUTO-0555", priority="sev4", feature_request=False,
             signals=[], missing=[],
             fields_contain={
                 "description": ["リンク先が404になります"],
                 "repro_steps": ["画面下部の「詳しくはこちら」を押す"],
                 "error_messages": ["The requested URL /help/notify-v1 was not found on this server."],
                 "circumstances": ["11月24日のリリース以降です"]}))

    # ---- How-to question under four-severity: nothing declared, no urgency -> sev3 (default);
    #      steps and error text absent -> await_info.
    body = T("""
Hello,

Could you tell us how to add a second administrator to our tenant? We could not find the setting in the admin guide.

Kind regards,
Kenji Ito
Umbrella Systems K.K. | IT Desk
""")
    mail("four-severity-howto-default-sev3", who=UMBRELLA, when=(2026, 11, 25, 15, 0, 0), codec="ascii",
         label="us-ascii", client="thunderbird", subject="How to add a second administrator", body=body,
         exp=expect(
             policy=FS, language="en", customer_id="UMBRELLA-0100", priority="sev3", feature_request=False,
             signals=[], action="await_info", missing=["repro_steps", "error_messages", "circumstances"],
             fields_contain={"description": ["how to add a second administrator to our tenant"]},
             fields_exclude=["Kind regards"]))


def mails_feature_requests():
    # ---- 機能改善要求, three-priority -> low.
    body = T("""
サポートご担当者様

いつもお世話になっております。アクメの山田です。

機能改善要求として、以下をご検討いただけますでしょうか。

内容：
受注一覧で、表示列の並び順と列幅をユーザーごとに保存できるようにしていただきたいです。

背景：
現在は画面を開くたびに既定の列に戻るため、受注担当者が毎朝設定し直しています。

よろしくお願いいたします。
""")
    mail("feature-request-kaizen-youkyuu", who=YAMADA, when=(2026, 11, 25, 11, 30, 0),
         subject="【機能改善要求】受注一覧の列設定の保存", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", priority="low", feature_request=True, signals=[],
             fields_contain={"description": ["列幅をユーザーごとに保存できるようにしていただきたいです"]},
             subject_contains=["【機能改善要求】"]))

    # ---- 機能追加, four-severity -> not_covered.
    body = T("""
ご担当者様

お世話になっております。さくら物流の中村です。

出荷管理について、機能追加のお願いです。

概要：
出荷指示をExcelファイルから一括登録できる機能を追加していただけないでしょうか。
現在は1件ずつ画面から入力しており、繁忙期は1日300件ほどになります。

ご検討のほど、よろしくお願いいたします。
""")
    mail("four-severity-feature-addition", who=NAKAMURA, when=(2026, 11, 25, 14, 0, 0),
         subject="出荷指示の一括登録機能の追加について", body=body, exp=expect(
             policy="four-severity", language="ja", customer_id="SAKURA-0301", feature_request=True,
             signals=[], action="not_covered",
             fields_contain={"description": ["Excelファイルから一括登録できる機能を追加していただけないでしょうか"]}))

    # ---- "feature request", English, three-priority -> low.
    body = T("""
Hi team,

This is a feature request rather than a problem report.

Summary: we would like to be able to schedule report exports (daily at 06:00 JST) and have them e-mailed to a distribution list.

At the moment somebody on our finance team runs the export by hand every morning.

Best regards,
Priya Nair
Finance Systems | Globex Corporation
Phone +1 555 0100 2231
""")
    mail("feature-request-english", who=NAIR, when=(2026, 11, 25, 12, 0, 0), codec="ascii", label="us-ascii",
         subject="Feature request: scheduled report exports", body=body, exp=expect(
             language="en", customer_id="GLOBEX-0042", priority="low", feature_request=True, signals=[],
             fields_contain={"description": ["schedule report exports (daily at 06:00 JST)"]},
             fields_exclude=["Phone +1 555 0100 2231"]))

    # ---- "enhancement", English, four-severity -> not_covered.
    body = T("""
Hello,

We would like to submit an enhancement: please allow API keys to be restricted to a list of source IP ranges.

Our security team requires this before we can roll out the integration to our subsidiaries.

Regards,
Kenji Ito
Umbrella Systems K.K. | IT Desk
""")
    mail("four-severity-enhancement-english", who=UMBRELLA, when=(2026, 11, 25, 9, 40, 0), codec="ascii",
         label="us-ascii", client="thunderbird", subject="Enhancement: IP allow-list for API keys", body=body,
         exp=expect(
             policy="four-severity", language="en", customer_id="UMBRELLA-0100", feature_request=True,
             signals=[], action="not_covered",
             fields_contain={"description": ["restricted to a list of source IP ranges"]}))


ACK_EXCLUDE_JA = ["お問い合わせを受け付けました", "以下の情報が不足しております", "表示されたエラーメッセージの全文",
                  "件名の受付番号を変更せずに"]


def ack_quote_en(case: str, name: str) -> str:
    return T("""
> Dear %s,
>
> Thank you for contacting Uketsuke Support. We have received your report.
> Case number: %s
> Priority: Medium
> Please keep the case number in the subject of every reply.
>
> To investigate, we still need:
> - steps to reproduce the problem
> - the exact text of every error message
""" % (name, case))


ACK_EXCLUDE_EN = ["We have received your report", "steps to reproduce the problem",
                  "the exact text of every error message", "Please keep the case number"]


def mails_followups():
    # ---- 返信: [CASE-...] (Japanese client prefix), quoting our acknowledgment with the
    #      Japanese "2026年11月24日(火) 10:00 ... <...>:" attribution line.
    body = T("""
ウケツケ サポートセンター
ご担当者様

お世話になっております。アクメの山田です。
ご依頼の情報をお送りいたします。

【再現手順】
1. 受注管理 > 受注一覧 を開く
2. 得意先コード「C-0451」で検索する
3. 検索結果の1件目の「詳細」を押す

【エラーメッセージ】
ページを表示できませんでした。時間をおいて再度お試しください。(ERR-5000)

よろしくお願いいたします。

2026年11月24日(火) 10:00 ウケツケ サポートセンター <support@uketsuke.example.jp>:
""") + ACK_QUOTE_JA
    mail("followup-henshin-square-brackets", who=YAMADA, when=(2026, 11, 24, 13, 5, 0), client="thunderbird",
         subject="返信: [CASE-2026-000123] Re: 受注詳細画面が開けません", body=body,
         in_reply_to="<3f9a0c1b7e2d.91c4aa07@uketsuke.example.jp>",
         references="<TYCPR01MB1A2B3C4D5E6F7A8B9C0D@TYCPR01MB1A2B.jpnprd01.prod.outlook.example.com>\n <3f9a0c1b7e2d.91c4aa07@uketsuke.example.jp>",
         exp=expect(
             language="ja", customer_id="ACME-0012", case_ref="CASE-2026-000123", action="followup", signals=[],
             fields_contain={
                 "repro_steps": ["得意先コード「C-0451」で検索する"],
                 "error_messages": ["ページを表示できませんでした。時間をおいて再度お試しください。(ERR-5000)"]},
             fields_exclude=ACK_EXCLUDE_JA + ["2026年11月24日(火) 10:00 ウケツケ サポートセンター"],
             subject_contains=["[CASE-2026-000123]"]))

    # ---- RE：【CASE-...】 with a full-width colon; "> " quotes without attribution.
    body = T("""
ウケツケ サポートセンター 御中

お世話になっております。さくら物流の鈴木です。
追加でわかったことをお知らせいたします。

発生状況：
配送伝票の一括印刷は、Google Chrome では51件目以降も印刷できました。
Microsoft Edge でのみ発生しているようです。

以上、よろしくお願いいたします。

> 鈴木 一郎 様
>
> ウケツケ サポートセンターです。お問い合わせを受け付けました。
> 受付番号：CASE-2026-000124
> ご利用のブラウザとバージョンをお知らせいただけますでしょうか。
""")
    mail("followup-re-fullwidth-colon-lenticular", who=SUZUKI, when=(2026, 11, 24, 17, 2, 0),
         subject="RE：【CASE-2026-000124】配送伝票の一括印刷で51件目以降が印刷されない", body=body,
         subject_hdr=ew_words(["RE：【CASE-2026-000124】", "配送伝票の一括印刷で", "51件目以降が印刷されない"]),
         exp=expect(
             language="ja", customer_id="SAKURA-0301", case_ref="CASE-2026-000124", action="followup", signals=[],
             fields_contain={"circumstances": ["Microsoft Edge でのみ発生しているようです"]},
             fields_exclude=["お問い合わせを受け付けました", "ご利用のブラウザとバージョンをお知らせいただけますでしょうか"],
             subject_contains=["【CASE-2026-000124】"]))

    # ---- Re: Re: ［ＣＡＳＥ－２０２６－０００１２５］ full-width tag (ISO-2022-JP subject).
    body = T("""
ご担当者様

お世話になっております。北斗システムの伊藤です。

ご依頼のあったブラウザのコンソール出力を貼り付けます。

エラーメッセージ：
Uncaught TypeError: Cannot read properties of undefined (reading 'approverId')
    at ApprovalPanel.onApprove (approval-panel.js:311:42)
    at HTMLButtonElement.<anonymous> (approval-panel.js:118:9)

よろしくお願いいたします。

> 伊藤 翔 様
> 受付番号：ＣＡＳＥ－２０２６－０００１２５
> ブラウザのコンソールに表示されているエラーの全文をお送りください。
""")
    mail("followup-rere-fullwidth-tag", who=ITO, when=(2026, 11, 24, 15, 30, 0), client="outlook",
         subject="Re: Re: ［ＣＡＳＥ－２０２６－０００１２５］ 承認ボタンで画面が固まる", body=body,
         exp=expect(
             language="ja", customer_id="HOKUTO-0555", case_ref="CASE-2026-000125", action="followup",
             signals=[],
             fields_contain={"error_messages": ["approval-panel.js:311:42"]},
             fields_exclude=["ブラウザのコンソールに表示されているエラーの全文をお送りください"],
             subject_contains=["［ＣＡＳＥ－２０２６－０００１２５］"]))

    # ---- 転送: ＃CASE-... ; the forwarded part is not asserted either way (see README).
    body = T("""
ウケツケ サポートセンター
ご担当者様

お世話になっております。アクメ運用チームの髙橋です。
先ほどの件について、現場担当から届いたメールを転送いたします。

補足です。
発生状況：
出荷倉庫（厚木）の端末3台すべてで発生しており、本社の端末では発生しません。

よろしくお願いいたします。

-------- 転送メッセージ --------
件名: 倉庫端末でログインできない
日付: Tue, 24 Nov 2026 10:40:12 +0900
差出人: 厚木倉庫 端末担当 <atsugi-wh@ops.acme.example.jp>
宛先: 髙橋 健一 <takahashi@ops.acme.example.jp>

髙橋さん

倉庫の端末3台とも、朝からログインできません。
画面には「このデバイスは登録されていません (DEV-0104)」と出ます。
""")
    mail("followup-tensou-fullwidth-hash", who=TAKAHASHI, when=(2026, 11, 24, 11, 15, 0), client="thunderbird",
         subject="転送: ＃CASE-2026-000126 倉庫端末でログインできない", body=body, exp=expect(
             language="ja", customer_id="ACME-0012", case_ref="CASE-2026-000126", action="followup", signals=[],
             fields_contain={"circumstances": ["本社の端末では発生しません"]},
             subject_contains=["＃CASE-2026-000126"]))

    # ---- Fwd: [CASE-...] English Gmail with "On ... wrote:" quote.
    body = T("""
Hi,

Adding the details you asked for.

Steps to reproduce:
1. Log in as a user whose display name contains an apostrophe (e.g. O'Brien)
2. Open Profile > Notifications
3. Click Save

Error message:
Unexpected token ''', "'O'Brien'" is not valid JSON

Thanks,
John

On Tue, Nov 24, 2026 at 4:02 PM Uketsuke Support <support@uketsuke.example.jp> wrote:
""") + ack_quote_en("CASE-2026-000127", "John Miller")
    mail("followup-fwd-english-on-wrote", who=MILLER, when=(2026, 11, 24, 16, 45, 0), client="gmail",
         codec="utf8", cte="quoted-printable",
         subject="Fwd: [CASE-2026-000127] Re: Notification settings cannot be saved", body=body, exp=expect(
             language="en", customer_id="GLOBEX-0042", case_ref="CASE-2026-000127", action="followup",
             signals=[],
             fields_contain={
                 "repro_steps": ["display name contains an apostrophe (e.g. O'Brien)"],
                 "error_messages": ["Unexpected token ''', \"'O'Brien'\" is not valid JSON"]},
             fields_exclude=ACK_EXCLUDE_EN + ["Uketsuke Support <support@uketsuke.example.jp> wrote"]))

    # ---- FW: [CASE-...] Outlook (Umbrella) with the English Outlook header block.
    body = T("""
Hello,

Sorry for the delay. Here is the missing information.

Error message:
ERR_SSL_VERSION_OR_CIPHER_MISMATCH when the kiosk browser opens https://kiosk.example.jp

Environment:
Kiosk terminals run Windows 10 IoT LTSC 2016 with Internet Explorer mode enabled.

Regards,
Kenji Ito

________________________________
From: Uketsuke Support <support@uketsuke.example.jp>
Sent: Tuesday, November 24, 2026 2:10 PM
To: Umbrella IT Desk <it-desk@umbrella.example.com>
Subject: [CASE-2026-000128] Re: Kiosk terminals cannot connect

Dear Umbrella IT Desk,

Thank you for contacting Uketsuke Support. We have received your report.
Case number: CASE-2026-000128
Please tell us the exact error text and the operating system of the kiosk terminals.
""")
    mail("followup-fw-outlook-english", who=UMBRELLA, when=(2026, 11, 24, 15, 20, 0), codec="ascii",
         label="us-ascii", subject="FW: [CASE-2026-000128] Re: Kiosk terminals cannot connect", body=body,
         exp=expect(
             language="en", customer_id="UMBRELLA-0100", case_ref="CASE-2026-000128", action="followup",
             signals=[],
             fields_contain={
                 "error_messages": ["ERR_SSL_VERSION_OR_CIPHER_MISMATCH"],
                 "circumstances": ["Windows 10 IoT LTSC 2016"]},
             fields_exclude=["We have received your report", "Please tell us the exact error text"]))

    # ---- AW: [CASE-...] German Outlook ("Von: / Gesendet: / An: / Betreff:").
    body = T("""
Hello,

the steps are below.

Steps to reproduce:
1. Open Purchasing > Suppliers
2. Sort the list by "Last order" descending
3. Go to page 2

Error message:
HTTP 500 - java.lang.IllegalArgumentException: Comparison method violates its general contract!

Best regards
Anna Schmidt

Von: Uketsuke Support <support@uketsuke.example.jp>
Gesendet: Dienstag, 24. November 2026 11:02
An: Anna Schmidt <a.schmidt@globex.example.com>
Betreff: [CASE-2026-000129] Re: Supplier list crashes when sorting

Dear Anna Schmidt,

Thank you for contacting Uketsuke Support. We have received your report.
Case number: CASE-2026-000129
To investigate, we still need the steps to reproduce the problem.
""")
    mail("followup-aw-german-outlook", who=SCHMIDT, when=(2026, 11, 24, 11, 40, 0), codec="ascii",
         label="us-ascii", subject="AW: [CASE-2026-000129] Re: Supplier list crashes when sorting", body=body,
         exp=expect(
             language="en", customer_id="GLOBEX-0042", case_ref="CASE-2026-000129", action="followup",
             signals=[],
             fields_contain={
                 "repro_steps": ["Sort the list by \"Last order\" descending"],
                 "error_messages": ["Comparison method violates its general contract!"]},
             fields_exclude=["We have received your report", "Gesendet: Dienstag", "we still need the steps"]))

    # ---- Reply with our Message-ID in In-Reply-To but the tag removed from the subject.
    body = T("""
サポートご担当者様

お世話になっております。アクメの山田です。
件名から受付番号を消してしまい失礼いたしました。

エラーメッセージ：
出力処理中にエラーが発生しました。(エラーコード: E-4012)
詳細コード: EXP-CSV-TIMEOUT-120

よろしくお願いいたします。

-----Original Message-----
From: ウケツケ サポートセンター <support@uketsuke.example.jp>
Sent: Tuesday, November 24, 2026 10:20 AM
To: 山田 太郎 <yamada@acme.example.jp>
Subject: [CASE-2026-000130] Re: 受注一覧のCSV出力でエラー（E-4012）が発生し、データをダウンロードできません

山田 太郎 様
お問い合わせを受け付けました。
""")
    mail("followup-in-reply-to-ours-no-tag", who=YAMADA, when=(2026, 11, 24, 10, 55, 0),
         subject="RE: 受注一覧のCSV出力でエラー（E-4012）が発生し、データをダウンロードできません", body=body,
         in_reply_to="<b2c4e6a8d0f1.1a2b3c4d@uketsuke.example.jp>",
         references="<b2c4e6a8d0f1.1a2b3c4d@uketsuke.example.jp>", exp=expect(
             language="ja", customer_id="ACME-0012", action="followup", signals=[],
             fields_contain={"error_messages": ["EXP-CSV-TIMEOUT-120"]},
             fields_exclude=["お問い合わせを受け付けました", "件名から受付番号を消してしまい"]))

    # ---- four-severity: a case-tagged reply from a private address (not an authorized
    #      contact) -> reject, not followup.
    body = T("""
サポートご担当者様

アクメの山田です。外出先のため個人のアドレスから失礼します。

エラーメッセージ：
データベースに接続できません。(DB-0001)

よろしくお願いいたします。

> 受付番号：CASE-2026-000132
""")
    mail("four-severity-followup-unauthorized-reject", who=PRIVATE_YAMADA, when=(2026, 11, 25, 14, 40, 0),
         client="gmail", codec="utf8", cte="base64",
         subject="Re: [CASE-2026-000132] 本番環境で受注が保存できません", body=body, exp=expect(
             policy="four-severity", language="ja", customer_id=None, case_ref="CASE-2026-000132",
             action="reject", signals=[],
             fields_contain={"error_messages": ["(DB-0001)"]}))

    # ---- three-priority: the same kind of reply from an unknown sender is a followup.
    body = T("""
お世話になります。先日スマートフォンの表示についてお問い合わせした田中です。

機種は iPhone 15（iOS 18.1）、ブラウザは Safari です。

よろしくお願いします。

2026年11月25日(水) 21:30 ウケツケ サポートセンター <support@uketsuke.example.jp>:
> 田中様
> お問い合わせを受け付けました。
> 受付番号：CASE-2026-000133
> ご利用の機種とブラウザをお知らせください。
""")
    mail("followup-unknown-sender-three-priority", who=STRANGER, when=(2026, 11, 26, 8, 10, 0), client="gmail",
         codec="utf8", cte="base64", subject="Re: [CASE-2026-000133] スマホで管理画面が操作できない", body=body,
         exp=expect(
             language="ja", customer_id=None, case_ref="CASE-2026-000133", action="followup", signals=[],
             fields_contain={"description": ["iPhone 15(iOS 18.1)"]},
             fields_exclude=["ご利用の機種とブラウザをお知らせください", "お問い合わせを受け付けました"]))

    # ---- four-severity: the consultant supplies the missing customer ID in a follow-up.
    body = T("""
ウケツケ サポートセンター御中

お世話になっております。パートナーコンサルティングの渡辺です。
お客様番号の記載が漏れており、失礼いたしました。

お客様番号：HOKUTO-0555

発生状況：
北斗システム様のテナントのみで発生しており、他のお客様のテナントでは発生していません。

よろしくお願いいたします。

> 渡辺 健太 様
> 受付番号：CASE-2026-000134
> 報告にお客様番号が含まれていないため、お客様番号をお知らせください。
""")
    mail("four-severity-followup-supplies-customer-id", who=CONSULTANT, when=(2026, 11, 25, 10, 40, 0),
         subject="Re: [CASE-2026-000134] ダッシュボードの売上ウィジェットが更新されない", body=body, exp=expect(
             policy="four-severity", language="ja", customer_id="HOKUTO-0555", case_ref="CASE-2026-000134",
             action="followup", signals=[],
             fields_contain={"circumstances": ["北斗システム様のテナントのみで発生しており"]},
             fields_exclude=["報告にお客様番号が含まれていないため"]))


def mails_ignore():
    IGN = "ignore"
    # ---- Out-of-office reply to our acknowledgment: Auto-Submitted: auto-replied; the case tag
    #      in the subject must not make it a followup.
    body = T("""
このメールは自動応答です。

山田は11月24日(火)から11月27日(金)まで出張のため不在にしております。
期間中はメールを確認できませんので、お急ぎの方は情報システム部（03-1234-5600）までご連絡ください。

株式会社アクメ 情報システム部 山田 太郎
""")
    mail("auto-submitted-auto-replied-ooo", who=YAMADA, when=(2026, 11, 24, 10, 0, 5),
         subject="自動応答: [CASE-2026-000123] Re: 受注詳細画面が開けません", body=body,
         subject_hdr=ew("自動応答:") + " [CASE-2026-000123] Re:\n " + ew("受注詳細画面が開けません"),
         in_reply_to="<3f9a0c1b7e2d.91c4aa07@uketsuke.example.jp>",
         extra=[("Auto-Submitted", "auto-replied")], exp=expect(
             action=IGN, signals=["auto_submitted"], subject_contains=["[CASE-2026-000123]"]))

    # ---- Monitoring alert: Auto-Submitted: auto-generated (looks like an incident, is a robot).
    body = T("""
障害が発生しました。

ホスト: order-api-01.ops.acme.example.jp
トリガー: 受注API 応答なし (HTTP check failed)
深刻度: High
発生時刻: 2026/11/25 03:12:44
エラー: Connection timed out after 10001 milliseconds

このメールは監視システムから自動送信されています。
""")
    mail("auto-submitted-auto-generated-monitoring", who=("Zabbix", "zabbix@ops.acme.example.jp"),
         when=(2026, 11, 25, 3, 12, 50), client="none", codec="utf8", cte="8bit",
         subject="【障害通知】PROBLEM: 受注API 応答なし", body=body,
         extra=[("Auto-Submitted", "auto-generated"), ("X-Mailer", "Zabbix 7.0")], exp=expect(
             action=IGN, signals=["auto_submitted"]))

    # ---- Auto-Submitted: no is a HUMAN (RFC 3834).
    body = T("""
サポートご担当者様

お世話になっております。アクメ運用チームの佐藤です。

現象：
請求書メールの差出人名が「no-reply」になり、お取引先から問い合わせを受けています。

再現手順：
1. 請求管理 > 請求書発行 で請求書をメール送信する
2. 受信したメールの差出人名を確認する

エラーメッセージ：
エラーは表示されません。

発生状況：
11月24日のリリース以降に送信した請求書メールすべてで発生しています。

よろしくお願いいたします。
""")
    mail("auto-submitted-no-is-human", who=SATO, when=(2026, 11, 25, 10, 25, 0), client="none",
         subject="請求書メールの差出人名が変わってしまう", body=body,
         extra=[("Auto-Submitted", "no"), ("X-Mailer", "Roundcube Webmail/1.6.9")], exp=expect(
             language="ja", customer_id="ACME-0012", feature_request=False, signals=[], missing=[],
             fields_contain={
                 "description": ["差出人名が「no-reply」になり"],
                 "repro_steps": ["受信したメールの差出人名を確認する"],
                 "circumstances": ["11月24日のリリース以降に送信した請求書メールすべて"]}))

    # ---- Precedence: bulk (newsletter).
    body = T("""
ウケツケ サポートセンター 御中

平素より格別のご高配を賜り、厚く御礼申し上げます。
「クラウド業務改善ニュース」11月号をお届けします。

■ 今月の特集：年末調整をクラウドで効率化する5つのポイント
■ セミナーのご案内：12月10日(木) オンライン開催

配信停止はこちら: https://news.example.com/unsubscribe?id=8812
""")
    mail("precedence-bulk-newsletter", who=("クラウド業務改善ニュース", "news@news.example.com"),
         when=(2026, 11, 25, 7, 0, 0), client="none", codec="utf8", cte="base64", recv=False,
         subject="【クラウド業務改善ニュース】11月号：年末調整の効率化", body=body,
         extra=[("Precedence", "bulk"), ("List-Unsubscribe", "<https://news.example.com/unsubscribe?id=8812>")],
         exp=expect(action=IGN, signals=["precedence"]))

    # ---- Precedence: junk.
    body = T("""
おめでとうございます！
あなたのアカウントが特別キャンペーンに当選しました。
以下のURLから48時間以内に受け取り手続きを完了してください。
http://prize.example.org/claim?u=support
""")
    mail("precedence-junk", who=(None, "campaign@prize.example.org"), when=(2026, 11, 25, 4, 33, 0),
         client="none", codec="utf8", cte="8bit", recv=False, subject="【当選のお知らせ】特別キャンペーン",
         body=body, extra=[("Precedence", "junk")], exp=expect(action=IGN, signals=["precedence"]))

    # ---- Mailman list traffic: Precedence: list + List-Id.
    body = T("""
運用チーム各位

本日22:00から受注APIサーバのOSアップデートを行います。
作業中は受注APIが最大10分停止します。

佐藤
_______________________________________________
acme-ops mailing list
acme-ops@lists.acme.example.jp
""")
    mail("precedence-list-and-list-id", who=SATO, when=(2026, 11, 25, 16, 0, 0), client="none",
         subject="[acme-ops:0412] 本日22:00 受注APIサーバ作業のお知らせ", body=body,
         to="acme-ops@lists.acme.example.jp", cc=SUPPORT, return_path="<acme-ops-bounces@lists.acme.example.jp>",
         extra=[("Precedence", "list"), ("List-Id", "ACME operations <acme-ops.lists.acme.example.jp>"),
                ("List-Post", "<mailto:acme-ops@lists.acme.example.jp>"), ("Sender", "acme-ops-bounces@lists.acme.example.jp"),
                ("X-Mailman-Version", "2.1.39")],
         exp=expect(action=IGN, signals=["precedence", "list_id"]))

    # ---- List-Id only (Sympa list without a Precedence header).
    body = T("""
Sakura Logistics IT announcements

The VPN gateway certificate will be renewed on Nov 28 between 01:00 and 01:30 JST.
No action is required from users.
""")
    mail("list-id-only", who=("Sakura IT", "it-announce@sakura-logi.example.jp"), when=(2026, 11, 25, 12, 0, 0),
         client="none", codec="ascii", label="us-ascii", subject="[it-announce] VPN certificate renewal on Nov 28",
         body=body, to="it-announce@lists.sakura-logi.example.jp", cc=SUPPORT,
         return_path="<it-announce-owner@lists.sakura-logi.example.jp>",
         extra=[("List-Id", "<it-announce.lists.sakura-logi.example.jp>"),
                ("List-Unsubscribe", "<mailto:sympa@lists.sakura-logi.example.jp?subject=unsubscribe%20it-announce>")],
         exp=expect(action=IGN, signals=["list_id"]))

    # ---- Precedence: auto_reply (groupware auto-reply).
    body = T("""
※このメールは自動返信です。

お問い合わせありがとうございます。
北斗システム株式会社 情報システム窓口です。
内容を確認のうえ、担当者より2営業日以内にご連絡いたします。
""")
    mail("precedence-auto-reply", who=("北斗システム 情報システム窓口", "helpdesk@hokuto.example.jp"),
         when=(2026, 11, 24, 14, 0, 2), client="none", codec="jis",
         subject="【自動返信】お問い合わせを受け付けました", body=body,
         extra=[("Precedence", "auto_reply"), ("X-Mailer", "Garoon mail 5.15")],
         exp=expect(action=IGN, signals=["precedence"]))

    # ---- X-Autoreply: yes.
    body = T("""
只今、休暇のため不在にしております。
11月30日(月)より順次対応いたします。

さくら物流株式会社 中村
""")
    mail("x-autoreply", who=NAKAMURA, when=(2026, 11, 26, 9, 0, 1), client="none", codec="sjis", cte="8bit",
         subject="不在通知: Re: [CASE-2026-000135] 入荷予定の取込", body=body,
         subject_hdr=ew("不在通知:", "sjis") + " Re: [CASE-2026-000135]\n " + ew("入荷予定の取込", "sjis"),
         extra=[("X-Autoreply", "yes")], exp=expect(action=IGN, signals=["x_autoreply"]))

    # ---- X-Autorespond.
    body = T("""
Thank you for your message. I am out of the office until Monday, November 30 with limited access to e-mail.
For urgent matters please contact it-desk@umbrella.example.com.
""")
    mail("x-autorespond", who=("Kenji Ito", "kenji.ito@umbrella.example.com"), when=(2026, 11, 26, 9, 30, 0),
         client="none", codec="ascii", label="us-ascii", subject="Out of Office: [CASE-2026-000128] Re: Kiosk terminals cannot connect",
         body=body, extra=[("X-Autorespond", "Out of Office"), ("X-Mailer", "Zimbra 9.0.0_GA_4546")],
         return_path="<kenji.ito@umbrella.example.com>", recv=False,
         exp=expect(action=IGN, signals=["x_autorespond"]))

    # ---- X-Auto-Response-Suppress only (workflow notification).
    body = T("""
A new item was added to the list "IT Incidents" by Flow Service.

Title: Weekly report job finished
Status: Completed
""")
    mail("x-auto-response-suppress-only", who=("Umbrella Workflow", "flow-noreply@umbrella.example.com"),
         when=(2026, 11, 25, 6, 0, 0), client="none", codec="ascii", label="us-ascii",
         subject="Item added: Weekly report job finished", body=body, recv=False,
         extra=[("X-Auto-Response-Suppress", "All")], exp=expect(action=IGN, signals=["x_auto_response_suppress"]))

    # ---- Exchange out-of-office: Auto-Submitted + X-Auto-Response-Suppress.
    body = T("""
Vielen Dank fuer Ihre Nachricht. Ich bin bis einschliesslich 27.11.2026 nicht im Buero.
Thank you for your message. I am out of the office until November 27, 2026.

Anna Schmidt
""")
    mail("exchange-ooo-auto-submitted-and-suppress", who=SCHMIDT, when=(2026, 11, 24, 11, 3, 0),
         codec="ascii", label="us-ascii",
         subject="Automatische Antwort: [CASE-2026-000129] Re: Supplier list crashes when sorting", body=body,
         extra=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"),
                ("X-MS-Exchange-Inbox-Rules-Loop", "a.schmidt@globex.example.com")],
         exp=expect(action=IGN, signals=["auto_submitted", "x_auto_response_suppress"]))

    # ---- Null Return-Path only (system notification sent with an empty envelope sender).
    body = T("""
受注システムからのお知らせです。

11月25日分の受注データのバックアップが完了しました。
件数: 3,412件
""")
    mail("null-return-path-only", who=("受注システム", "noreply@acme.example.jp"), when=(2026, 11, 25, 23, 30, 0),
         client="none", subject="【受注システム】バックアップ完了のお知らせ", body=body, return_path="<>",
         exp=expect(action=IGN, signals=["null_return_path"]))

    # ---- Postfix bounce of one of our acknowledgments: MAILER-DAEMON, null Return-Path,
    #      Auto-Submitted, multipart/report.  The returned headers carry our Message-ID and loop
    #      header, but those are inside the report, not this message's own headers.
    ours = "<5d7e9f10a2b3.c4d5e6f7@uketsuke.example.jp>"
    notice = T("""
This is the mail system at host mail.acme.example.jp.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<kondo@acme.example.jp>: host mail.acme.example.jp[192.0.2.10] said: 550 5.1.1
    <kondo@acme.example.jp>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)
""")
    status = T("""
Reporting-MTA: dns; mail.acme.example.jp
X-Postfix-Queue-ID: 4Fq2Yx1LmNz9
X-Postfix-Sender: rfc822; support@uketsuke.example.jp
Arrival-Date: Tue, 24 Nov 2026 10:20:05 +0900 (JST)

Final-Recipient: rfc822; kondo@acme.example.jp
Original-Recipient: rfc822;kondo@acme.example.jp
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.acme.example.jp
Diagnostic-Code: smtp; 550 5.1.1 <kondo@acme.example.jp>: Recipient address
    rejected: User unknown in local recipient table
""")
    returned = T("""
Return-Path: <support@uketsuke.example.jp>
From: =?UTF-8?B?44Km44Kx44OE44KxIOOCteODneODvOODiOOCu+ODs+OCv+ODvA==?= <support@uketsuke.example.jp>
To: kondo@acme.example.jp
Subject: [CASE-2026-000136] Re: =?UTF-8?B?5Y+X5rOo44OH44O844K/44Gu56K66KqN?=
Date: Tue, 24 Nov 2026 10:20:04 +0900
Message-ID: %s
Auto-Submitted: auto-replied
X-Uketsuke-Loop: support@uketsuke.example.jp
""" % ours)
    bnd = "4Fq2Yx1LmNz9.1764033605/mail.acme.example.jp"
    content = ([("Content-Description", "Notification"),
                ("Content-Type", 'multipart/report; report-type=delivery-status;\n\tboundary="%s"' % bnd),
                ("Content-Transfer-Encoding", "8bit")],
               multipart(bnd, [
                   entity([("Content-Description", "Notification"), ("Content-Type", "text/plain; charset=us-ascii")],
                          notice.encode("ascii")),
                   entity([("Content-Description", "Delivery report"), ("Content-Type", "message/delivery-status")],
                          status.encode("ascii")),
                   entity([("Content-Description", "Undelivered Message Headers"), ("Content-Type", "text/rfc822-headers")],
                          returned.encode("ascii"))],
                   preamble=b"This is a MIME-encapsulated message.\n\n"))
    mail("bounce-mailer-daemon-postfix", who=("Mail Delivery System", "MAILER-DAEMON@mail.acme.example.jp"),
         when=(2026, 11, 24, 10, 20, 6), client="none", subject="Undelivered Mail Returned to Sender",
         content=content, return_path="<>", to=SUPPORT,
         from_hdr="MAILER-DAEMON@mail.acme.example.jp (Mail Delivery System)",
         extra=[("Auto-Submitted", "auto-replied")],
         exp=expect(action=IGN, signals=["auto_submitted", "null_return_path", "mailer_daemon", "delivery_report"]))

    # ---- Exchange NDR: multipart/report only (stored without Return-Path).
    status = T("""
Reporting-MTA: dns;TY0PR01MB9988.jpnprd01.prod.outlook.example.com
Received-From-MTA: dns;mx1.uketsuke.example.jp
Arrival-Date: Wed, 25 Nov 2026 02:14:09 +0000

Final-Recipient: rfc822;old-admin@umbrella.example.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
""")
    notice = T("""
Delivery has failed to these recipients or groups:

old-admin@umbrella.example.com
The email address you entered couldn't be found. Please check the recipient's email address and try to resend the message.
""")
    bnd = "_000_6F2A1C3B4D5E6F708192A3B4C5D6E7F8TY0PR01MB9988jpnp_"
    content = ([("Content-Type", 'multipart/report; report-type=delivery-status;\n\tboundary="%s"' % bnd)],
               multipart(bnd, [
                   entity([("Content-Type", "text/plain; charset=us-ascii"), ("Content-Transfer-Encoding", "7bit")],
                          notice.encode("ascii")),
                   entity([("Content-Type", "message/delivery-status")], status.encode("ascii"))]))
    mail("bounce-exchange-ndr-report-only", who=("Microsoft Outlook", "postmaster@umbrella.example.com"),
         when=(2026, 11, 25, 11, 14, 10), client="none", subject="Undeliverable: [CASE-2026-000137] Re: VPN access",
         content=content, recv=False, exp=expect(action=IGN, signals=["delivery_report"]))

    # ---- A message whose own Message-ID is ours (an agent's reply that came back through a
    #      customer-side forward that kept the original headers).
    body = T("""
鈴木 一郎 様

ウケツケ サポートセンターの森田です。
配送伝票の一括印刷の件、Microsoft Edge 131 で発生する不具合を確認いたしました。
修正版のリリース日が決まりましたら、あらためてご連絡いたします。
""")
    mail("own-message-id-came-back", who=("ウケツケ サポートセンター", SUPPORT), when=(2026, 11, 25, 10, 0, 0),
         client="none", subject="[CASE-2026-000124] Re: 配送伝票の一括印刷で51件目以降が印刷されない", body=body,
         to="suzuki@sakura-logi.example.jp", recv=False, message_id="<c0ffee12ab34.5678cdef@uketsuke.example.jp>",
         return_path="<suzuki@sakura-logi.example.jp>",
         extra=[("Resent-From", "suzuki@sakura-logi.example.jp"), ("Resent-To", SUPPORT),
                ("Resent-Date", date(2026, 11, 25, 10, 3, 0))],
         exp=expect(action=IGN, signals=["own_message_id"]))

    # ---- Our loop header on a message with a foreign Message-ID (customer's redirect rule).
    body = T("""
山田 太郎 様

ウケツケ サポートセンターです。お問い合わせを受け付けました。
受付番号：CASE-2026-000138
""")
    mail("loop-header-only", who=YAMADA, when=(2026, 11, 25, 12, 1, 0), client="outlook",
         subject="[CASE-2026-000138] Re: 受注一覧の表示が遅い", body=body,
         extra=[("X-Uketsuke-Loop", "support@uketsuke.example.jp"),
                ("X-MS-Exchange-Inbox-Rules-Loop", "yamada@acme.example.jp")],
         exp=expect(action=IGN, signals=["loop_header"]))

    # ---- Our own acknowledgment looped back verbatim.
    body = T("""
株式会社アクメ
山田 太郎 様

ウケツケ サポートセンターです。お問い合わせを受け付けました。
受付番号：CASE-2026-000139
優先度：中
""")
    mail("own-ack-looped-back", who=("ウケツケ サポートセンター", SUPPORT), when=(2026, 11, 25, 12, 5, 0),
         client="none", codec="utf8", cte="base64", subject="[CASE-2026-000139] Re: 受注一覧の表示が遅い", body=body,
         message_id="<9e8d7c6b5a49.38271605@uketsuke.example.jp>", recv=False, return_path="<>",
         in_reply_to="<TYCPR01MB5F6E7D8C9B0A1F2E3D4C@TYCPR01MB5F6E.jpnprd01.prod.outlook.example.com>",
         extra=[("Auto-Submitted", "auto-replied"), ("X-Uketsuke-Loop", "support@uketsuke.example.jp")],
         exp=expect(action=IGN, signals=["auto_submitted", "null_return_path", "own_message_id", "loop_header"]))

    # ---- Precedence: normal is not one of bulk/junk/list/auto_reply: a human.
    body = T("""
サポートご担当者様

お世話になっております。北斗システムの木村です。

現象：
APIキーを再発行すると、古いキーが即時に無効になり、夜間バッチが失敗しました。

エラーメッセージ：
401 Unauthorized: {"error":"invalid_api_key"}

期待される結果：
再発行後も一定時間は古いキーが使えること、またはその旨が画面に表示されること。

よろしくお願いいたします。
""")
    mail("precedence-normal-is-human", who=KIMURA, when=(2026, 11, 25, 9, 5, 0), client="none",
         subject="APIキー再発行で古いキーが即時無効になる", body=body,
         extra=[("Precedence", "normal"), ("X-Mailer", "Active! mail 6")], exp=expect(
             language="ja", customer_id="HOKUTO-0555", feature_request=False, signals=[],
             missing=["repro_steps", "circumstances"],
             fields_contain={
                 "description": ["古いキーが即時に無効になり"],
                 "error_messages": ["401 Unauthorized: {\"error\":\"invalid_api_key\"}"]}))

    # ---- A human reply whose In-Reply-To is our Message-ID: not our mail coming back.
    #      (covered by followup-in-reply-to-ours-no-tag)


# ============================================================================================
# FORM SUBMISSIONS
# ============================================================================================

def form(name, data: dict, exp: dict):
    FORMS.append((name, data, exp))


def forms():
    form("ja-all-fields-priority-kou", {
        "customer_id": "ACME-0012", "email": "yamada@acme.example.jp", "name": "山田 太郎", "language": "ja",
        "priority": "高", "subject": "本番環境の受注確定処理が完了しません",
        "description": "受注確定ボタンを押すと処理中のまま5分以上経過し、受注が確定されません。全ユーザーで発生しており、受注業務が止まっています。",
        "repro_steps": "1. 受注管理 > 受注一覧 を開く\n2. 任意の受注を選択する\n3. 「受注確定」を押す",
        "error_messages": "処理がタイムアウトしました。(TX-0408)",
        "expected_result": "数秒で受注が確定し、ステータスが「確定済」になること。",
        "circumstances": "11月25日 13:40頃から発生。直前に当社側の変更はありません。",
    }, expect(language="ja", customer_id="ACME-0012", priority="high", feature_request=False, missing=[],
              fields_contain={"description": ["受注が確定されません", "ステータスが「確定済」になること"],
                              "repro_steps": ["「受注確定」を押す"],
                              "error_messages": ["処理がタイムアウトしました。(TX-0408)"],
                              "circumstances": ["13:40頃から発生"]}))

    form("en-undeclared-no-circumstances", {
        "customer_id": "GLOBEX-0042", "email": "j.miller@globex.example.com", "name": "John Miller",
        "language": "en", "priority": "", "subject": "Report builder drops the last column",
        "description": "When a custom report has more than 20 columns, the last column is missing from the Excel export.",
        "repro_steps": "1. Reports > Builder\n2. Add 21 columns to a report\n3. Export to Excel",
        "error_messages": "No error is shown; the exported file has 20 columns.",
        "expected_result": "All 21 columns are exported.",
        "circumstances": "",
    }, expect(language="en", customer_id="GLOBEX-0042", feature_request=False, missing=["circumstances"],
              fields_contain={"description": ["the last column is missing from the Excel export", "All 21 columns are exported."],
                              "repro_steps": ["Add 21 columns to a report"],
                              "error_messages": ["the exported file has 20 columns"]}))

    form("four-severity-priority-2-all-fields", {
        "customer_id": "UMBRELLA-0100", "email": "it-desk@umbrella.example.com", "name": "Kenji Ito",
        "language": "en", "priority": "2", "subject": "Payroll export fails for one subsidiary",
        "description": "The payroll export for the subsidiary 'Umbrella Osaka' fails; the other subsidiaries export fine. Payroll is due on Nov 27.",
        "repro_steps": "1. Payroll > Export\n2. Select company 'Umbrella Osaka' and period 2026-11\n3. Click Export",
        "error_messages": "EXP-5120 Export failed: bank code 0009 is not valid for transfer type 21",
        "expected_result": "The bank transfer file is generated.",
        "circumstances": "Umbrella Osaka changed its main bank on Nov 20.",
    }, expect(policy="four-severity", language="en", customer_id="UMBRELLA-0100", priority="sev2",
              feature_request=False, missing=[],
              fields_contain={"error_messages": ["EXP-5120 Export failed"],
                              "circumstances": ["changed its main bank on Nov 20"],
                              "description": ["The bank transfer file is generated."]}))

    form("four-severity-sev1-items-missing", {
        "customer_id": "HOKUTO-0555", "email": "ito@hokuto.example.jp", "name": "伊藤 翔", "language": "ja",
        "priority": "sev1", "subject": "全画面が表示されません",
        "description": "本日9時頃から、全ての画面が表示されず業務が停止しています。",
        "repro_steps": "", "error_messages": "",
        "expected_result": "", "circumstances": "",
    }, expect(policy="four-severity", language="ja", customer_id="HOKUTO-0555", priority="sev1",
              feature_request=False, action="await_info",
              missing=["repro_steps", "error_messages", "circumstances"],
              fields_contain={"description": ["全ての画面が表示されず業務が停止しています"]}))

    form("fullwidth-customer-id-priority-chuu", {
        "customer_id": "ＡＣＭＥ－００１２", "email": "sato@ops.acme.example.jp", "name": "佐藤 花子", "language": "ja",
        "priority": "中", "subject": "帳票のロゴ画像が粗く印刷される",
        "description": "請求書PDFのロゴ画像が粗く（ぼやけて）印刷されます。画面のプレビューでは問題ありません。",
        "repro_steps": "１．設定 ＞ 帳票設定 でロゴ画像（PNG、600dpi）を登録する\n２．請求書をPDF出力して印刷する",
        "error_messages": "エラーは表示されません。",
        "expected_result": "登録した解像度のまま印刷されること。",
        "circumstances": "JPEG形式で登録した場合も同じです。",
    }, expect(language="ja", customer_id="ACME-0012", priority="medium", feature_request=False, missing=[],
              fields_contain={"repro_steps": ["設定 > 帳票設定 でロゴ画像(PNG、600dpi)を登録する"],
                              "description": ["ロゴ画像が粗く(ぼやけて)印刷されます"],
                              "circumstances": ["JPEG形式で登録した場合も同じです"]}))

    form("consultant-no-customer-id", {
        "email": "consultant@partner.example.net", "name": "渡辺 健太", "language": "ja", "priority": "",
        "subject": "ユーザー招待メールが届かない",
        "description": "新規ユーザーを招待しても、招待メールが届きません。",
        "repro_steps": "1. 管理 > ユーザー > 招待 を開く\n2. メールアドレスを入力して「招待」を押す",
        "error_messages": "画面には「招待を送信しました」と表示されますが、メールが届きません。",
        "circumstances": "Gmail・Outlook.com のどちらの宛先でも同じです。",
    }, expect(language="ja", customer_id=None, feature_request=False, missing=["customer_id"],
              fields_contain={"repro_steps": ["メールアドレスを入力して「招待」を押す"],
                              "circumstances": ["どちらの宛先でも同じです"]}))

    form("feature-request-priority-tei", {
        "customer_id": "SAKURA-0301", "email": "suzuki@sakura-logi.example.jp", "name": "鈴木 一郎", "language": "ja",
        "priority": "低", "subject": "機能追加のご要望：配送伝票のバーコード形式",
        "description": "機能追加のご要望です。配送伝票のバーコードを、現在のCODE128に加えてQRコードでも出力できるようにしていただきたいです。",
        "repro_steps": "", "error_messages": "", "expected_result": "", "circumstances": "",
    }, expect(language="ja", customer_id="SAKURA-0301", priority="low", feature_request=True,
              fields_contain={"description": ["QRコードでも出力できるようにしていただきたいです"]}))

    form("unknown-email-with-customer-id-medium", {
        "customer_id": "SAKURA-0301", "email": "temp-staff01@gmail.example.com", "name": "大野 まゆみ", "language": "ja",
        "priority": "medium", "subject": "ハンディ端末の再ログインが頻繁に求められる",
        "description": "ハンディ端末で、15分ほど操作しないと再ログインを求められます。",
        "repro_steps": "1. ハンディ端末でログインする\n2. 15分間操作せずに置く\n3. 任意のボタンを押す",
        "error_messages": "セッションの有効期限が切れました。再度ログインしてください。(S-440)",
        "expected_result": "業務時間中はログイン状態が保たれること。",
        "circumstances": "派遣スタッフのため、会社のメールアドレスを持っていません。",
    }, expect(language="ja", customer_id="SAKURA-0301", priority="medium", feature_request=False, missing=[],
              fields_contain={"error_messages": ["(S-440)"],
                              "repro_steps": ["15分間操作せずに置く"]}))

    form("four-severity-enhancement-not-covered", {
        "customer_id": "GLOBEX-0042", "email": "p.nair@globex.example.com", "name": "Priya Nair", "language": "en",
        "priority": "", "subject": "Enhancement: multi-currency totals on the dashboard",
        "description": "Enhancement request: show dashboard totals converted to a reporting currency chosen by the user.",
    }, expect(policy="four-severity", language="en", customer_id="GLOBEX-0042", feature_request=True,
              action="not_covered",
              fields_contain={"description": ["converted to a reporting currency"]}))

    form("suspended-customer-reject", {
        "customer_id": "INITECH-0007", "email": "kobayashi@initech.example.jp", "name": "小林 直樹", "language": "ja",
        "priority": "", "subject": "TPSレポートのカバーシートが出力されない",
        "description": "TPSレポートを出力すると、カバーシートのページが含まれません。",
        "repro_steps": "1. レポート > TPS を開く\n2. 「カバーシートを含める」にチェックして出力する",
        "error_messages": "", "circumstances": "",
    }, expect(language="ja", customer_id="INITECH-0007", action="reject", feature_request=False))


# ============================================================================================
# BROKEN INPUTS
# ============================================================================================

def broken(name, raw: bytes, outcome: str):
    BROKEN.append((name, raw, {"outcome": outcome}))


def lcg_bytes(n: int, seed: int, exclude=b"") -> bytes:
    """Deterministic pseudo-random bytes (64-bit LCG), skipping the excluded byte values."""
    out, x = bytearray(), seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        b = (x >> 33) & 0xFF
        if b not in exclude:
            out.append(b)
    return bytes(out)


def broken_inputs():
    base = [("From", addr(*YAMADA)), ("To", SUPPORT), ("Date", date(2026, 11, 25, 10, 0, 0)),
            ("Message-ID", msgid("outlook", "broken")), ("MIME-Version", "1.0")]
    text = T("""
サポートご担当者様

お世話になっております。アクメの山田です。
受注一覧のCSV出力でエラーが発生します。

エラーメッセージ：
出力処理中にエラーが発生しました。(エラーコード: E-4012)
""")

    # multipart whose closing boundary never comes
    raw = entity(base + [("Subject", ew("CSV出力のエラー（境界未終了）")),
                         ("Content-Type", 'multipart/mixed; boundary="=_never_closed_"')],
                 multipart("=_never_closed_", [text_part(text, "jis", "7bit")]).rsplit(b"--=_never_closed_--", 1)[0])
    broken("truncated-boundary-never-closed", crlf(raw), "best_effort")

    # cut in the middle of a header (inside an encoded-word)
    raw = hdrs(base + [("Subject", ew("受注一覧のCSV出力でエラーが発生します"))])
    raw = raw[:raw.index(b"Subject: ") + 30]
    broken("truncated-mid-header", crlf(raw), "best_effort")

    # cut in the middle of a base64 body (mid-line, length not a multiple of 4)
    full = entity(base + [("Subject", ew("添付ログ")), ("Content-Type", "text/plain; charset=ISO-2022-JP"),
                          ("Content-Transfer-Encoding", "base64")], base64.encodebytes(jis(text * 3)))
    broken("truncated-mid-base64", crlf(full[:len(full) - 47]), "best_effort")

    # headers only: no blank line, no body
    raw = hdrs(base + [("Subject", ew("本文なし")), ("Content-Type", "text/plain; charset=ISO-2022-JP")])
    broken("header-only", crlf(raw), "best_effort")

    # binary garbage without any header (no ':' anywhere, no line structure to speak of)
    broken("binary-garbage", b"\x89\xfe\x00\x17" + lcg_bytes(4092, 20261125, exclude=b":"), "error")

    # empty file
    broken("empty", b"", "error")

    # NUL bytes inside a text body
    body = ("お世話になっております。\n受注一覧が表示されません。\n").encode("utf-8") + b"\x00\x00ERR\x00CODE: E-\x00" \
        + b"4012\n" + b"\x00" * 64 + "よろしくお願いいたします。\n".encode("utf-8")
    raw = entity(base + [("Subject", "NUL bytes in body"), ("Content-Type", "text/plain; charset=UTF-8"),
                         ("Content-Transfer-Encoding", "8bit")], body)
    broken("nul-bytes-in-body", crlf(raw), "best_effort")

    # 500 levels of nested multipart
    inner = text_part("deepest part: 受注一覧のCSV出力でエラーが発生します。\n", "utf8", "8bit", "UTF-8")
    for level in range(500, 0, -1):
        b = "n%03d" % level
        inner = entity([("Content-Type", 'multipart/mixed; boundary="%s"' % b)], multipart(b, [inner]))
    raw = hdrs(base + [("Subject", "deeply nested multipart")]) + inner
    broken("nested-multipart-500-levels", crlf(raw), "best_effort")

    # one 200 KB line without any newline at the end
    unit = "受注一覧のCSV出力でエラーが発生します。ERROR E-4012 "
    line = (unit * (200 * 1024 // len(unit.encode("utf-8")) + 1)).encode("utf-8")[:200 * 1024]
    line = line.decode("utf-8", "ignore").encode("utf-8")
    raw = crlf(hdrs(base + [("Subject", "200 KB line"), ("Content-Type", "text/plain; charset=UTF-8"),
                            ("Content-Transfer-Encoding", "8bit")]) + b"\n") + line
    broken("long-line-200kb-no-newline", raw, "best_effort")

    # invalid base64 (characters outside the alphabet, broken padding)
    raw = entity(base + [("Subject", ew("不正なBase64")), ("Content-Type", "text/plain; charset=UTF-8"),
                         ("Content-Transfer-Encoding", "base64")],
                 b"44GK5LiW6Kmx44Gr!!!44Gq44Gj44Gm44GK@@@44KK44G+44GZ\n=44CC5Y+X5rOo==\n***tail=*=\n")
    broken("invalid-base64", crlf(raw), "best_effort")

    # unknown charset label on the body
    raw = entity(base + [("Subject", ew("未知の文字コード")), ("Content-Type", "text/plain; charset=x-unknown-9"),
                         ("Content-Transfer-Encoding", "8bit")], sjis(text))
    broken("unknown-body-charset", crlf(raw), "best_effort")

    # encoded-word with an unknown charset in the Subject (and a normal body)
    raw = entity(base + [("Subject", "=?x-unknown-9?B?%s?= =?x-unknown-9?Q?=82=A0=82=A2?=" %
                          base64.b64encode(sjis("受注一覧のCSV出力")).decode()),
                         ("Content-Type", "text/plain; charset=ISO-2022-JP")], jis(text))
    broken("encoded-word-unknown-charset", crlf(raw), "best_effort")

    # ISO-2022-JP whose kanji mode is never closed (no ESC ( B at line or message end)
    body = jis(text).replace(ESC_ASCII, b"")
    raw = entity(base + [("Subject", ew("エスケープ未終了")), ("Content-Type", "text/plain; charset=ISO-2022-JP")], body)
    broken("iso2022jp-unterminated-escape", crlf(raw), "best_effort")


# ============================================================================================
# Consistency checks (typo guards only: they do not derive any expectation)
# ============================================================================================

def _check_expect(where, exp, text, subject="", body="", attachments=(), raw_text=""):
    problems = []
    for k in exp:
        if k not in KEY_ORDER:
            problems.append("unknown key %s" % k)
    if "policy" in exp and exp["policy"] not in ("three-priority", "four-severity"):
        problems.append("policy")
    four = exp.get("policy") == "four-severity"
    if "priority" in exp:
        ok = ("sev1", "sev2", "sev3", "sev4") if four else ("high", "medium", "low")
        if exp["priority"] not in ok:
            problems.append("priority %r not valid for the policy" % exp["priority"])
    if "language" in exp and exp["language"] not in ("ja", "en"):
        problems.append("language")
    for m in exp.get("missing", []):
        if m not in ITEMS:
            problems.append("missing item %r" % m)
    if "missing" in exp and "customer_id" in exp:
        if (exp["customer_id"] is None) != ("customer_id" in exp["missing"]):
            problems.append("customer_id null <-> missing customer_id disagree")
    if "missing" in exp and "fields_contain" in exp:
        for f in exp["fields_contain"]:
            if f in exp["missing"]:
                problems.append("%s both missing and expected to contain text" % f)
    for s in exp.get("signals", []):
        if s not in SIGNALS:
            problems.append("signal %r" % s)
    if exp.get("signals") and exp.get("action") != "ignore":
        problems.append("signals fired but action is not ignore")
    if exp.get("action") == "ignore" and not exp.get("signals"):
        problems.append("ignore without a signal")
    if exp.get("signals"):
        order = [SIGNALS.index(s) for s in exp["signals"]]
        if order != sorted(order):
            problems.append("signals not in canonical order")
    if "case_ref" in exp and exp["case_ref"] is not None:
        if not re.fullmatch(r"CASE-\d{4}-\d{6}", exp["case_ref"]):
            problems.append("case_ref format")
    if exp.get("customer_id") is not None and not re.fullmatch(r"[A-Z]+-\d{4}", exp["customer_id"]):
        problems.append("customer_id format")
    ntext = nfkc(text)
    for field, subs in exp.get("fields_contain", {}).items():
        if field not in ("repro_steps", "error_messages", "description", "circumstances"):
            problems.append("fields_contain field %r" % field)
        for s in subs:
            if s != nfkc(s):
                problems.append("fields_contain %r is not NFKC" % s)
            if s not in ntext:
                problems.append("fields_contain %r not in the source text" % s)
    for s in exp.get("fields_exclude", []):
        if nfkc(s) not in ntext and s not in raw_text:
            problems.append("fields_exclude %r does not occur at all (meaningless)" % s)
    for s in exp.get("subject_contains", []):
        if s not in subject:
            problems.append("subject_contains %r not in subject" % s)
    for s in exp.get("body_contains", []):
        if s not in body:
            problems.append("body_contains %r not in body" % s)
    for a in exp.get("attachments", []):
        if a["filename"] not in attachments:
            problems.append("attachment %r" % a["filename"])
    if problems:
        raise SystemExit("%s:\n  %s" % (where, "\n  ".join(problems)))


def check_all():
    names = set()
    for name, raw, exp, src in MAILS:
        assert name not in names, name
        names.add(name)
        _check_expect(name, exp, src["body"] + "\n" + src["extra"], src["subject"], src["body"],
                      src["attachments"], raw.decode("utf-8", "replace") + src["hidden"])
        assert len(raw) < MAX_FILE, (name, len(raw))
        # every mail is addressed to the support desk and has the basic headers
        head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        for h in (b"From:", b"Subject:", b"Date:", b"Message-ID:"):
            assert (b"\n" + h) in (b"\n" + head), (name, h)
        assert SUPPORT.encode() in head, name
    for name, data, exp in FORMS:
        keys = {"customer_id", "email", "name", "language", "priority", "subject", "description",
                "repro_steps", "error_messages", "expected_result", "circumstances"}
        assert set(data) <= keys, (name, set(data) - keys)
        assert all(isinstance(v, str) for v in data.values()), name
        text = "\n".join(data.get(k, "") for k in ("description", "repro_steps", "error_messages",
                                                    "expected_result", "circumstances"))
        _check_expect(name, exp, text)
    for name, raw, exp in BROKEN:
        assert exp["outcome"] in ("best_effort", "error")
        assert len(raw) <= 210 * 1024, name


# ============================================================================================
# Output
# ============================================================================================

def _dump(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _reset(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def write_all():
    mdir, fdir, bdir = (os.path.join(ROOT, x) for x in ("mail", "form", "broken"))
    for d in (mdir, fdir, bdir):
        _reset(d)
    index = []
    for i, (name, raw, exp, src) in enumerate(MAILS, 1):
        stem = "%03d-%s" % (i, name)
        with open(os.path.join(mdir, stem + ".eml"), "wb") as f:
            f.write(raw)
        with open(os.path.join(mdir, stem + ".expect.json"), "wb") as f:
            f.write(_dump(exp))
        index.append(("mail/" + stem + ".eml", exp))
    for i, (name, data, exp) in enumerate(FORMS, 1):
        stem = "%03d-%s" % (i, name)
        with open(os.path.join(fdir, stem + ".json"), "wb") as f:
            f.write(_dump(data))
        with open(os.path.join(fdir, stem + ".expect.json"), "wb") as f:
            f.write(_dump(exp))
        index.append(("form/" + stem + ".json", exp))
    for i, (name, raw, exp) in enumerate(BROKEN, 1):
        stem = "%03d-%s" % (i, name)
        with open(os.path.join(bdir, stem + ".eml"), "wb") as f:
            f.write(raw)
        with open(os.path.join(bdir, stem + ".expect.json"), "wb") as f:
            f.write(_dump(exp))
        index.append(("broken/" + stem + ".eml", exp))
    with open(os.path.join(ROOT, ".gitattributes"), "wb") as f:
        f.write(b"# corpus files are exact bytes: never convert line endings\n* -text\n")
    with open(os.path.join(ROOT, "README.md"), "wb") as f:
        f.write(readme(index).encode("utf-8"))


def _summary(exp) -> str:
    bits = []
    if exp.get("policy") == "four-severity":
        bits.append("4sev")
    for k in ("action", "priority", "customer_id", "case_ref"):
        if k in exp:
            bits.append("%s=%s" % (k, json.dumps(exp[k], ensure_ascii=False).strip('"')))
    if exp.get("signals"):
        bits.append("signals=" + ",".join(exp["signals"]))
    if exp.get("feature_request"):
        bits.append("feature")
    if "missing" in exp:
        bits.append("missing=" + (",".join(exp["missing"]) or "-"))
    if "outcome" in exp:
        bits.append("outcome=" + exp["outcome"])
    return "; ".join(bits)


def readme(index) -> str:
    rows = "\n".join("| `%s` | %s |" % (p, _summary(e).replace("|", "\\|")) for p, e in index)
    return README_TEXT.replace("{{COUNTS}}", "%d mail messages, %d form submissions, %d broken inputs" % (
        len(MAILS), len(FORMS), len(BROKEN))).replace("{{INDEX}}", rows)


README_TEXT = r"""# uketsuke test corpus

Realistic support-intake input with hand-written expectations: {{COUNTS}}.
The expectations are the independent truth the parser and the policy engine are tested
against: they say what a careful support engineer reads in each message, not what any code
happens to output. Everything here is generated by `generate.py`; do not edit the generated
files by hand.

## Layout

```
tests/corpus/
  generate.py            writes everything below from the data inside it (Python 3.11, stdlib only)
  README.md              this file (also generated)
  .gitattributes         "* -text": the corpus is exact bytes, git must never convert line endings
  mail/NNN-name.eml      one raw RFC 5322 message (CRLF as fetched over IMAP; a few LF as in a Maildir)
  mail/NNN-name.expect.json
  form/NNN-name.json     one web-form submission: an object with (some of) the string keys
                         customer_id, email, name, language, priority, subject, description,
                         repro_steps, error_messages, expected_result, circumstances
  form/NNN-name.expect.json
  broken/NNN-name.eml    damaged input; its .expect.json is only {"outcome": "best_effort" | "error"}
  broken/NNN-name.expect.json
```

Regenerate with `python3 tests/corpus/generate.py` (from any directory). It clears and rewrites
`mail/`, `form/`, `broken/`, this README and `.gitattributes`, byte for byte the same every run.
The generated files are committed: the tests read them and need no Python. The tests create the
very large inputs (the 20 MB message) themselves; every generated file is under 100 KB except
`broken/*-long-line-200kb-no-newline.eml` (200 KB, on purpose).

## Expectation files

A JSON object; every key is optional and the test checks only the keys present.

| key | meaning |
|---|---|
| `policy` | `"three-priority"` (default when absent) or `"four-severity"`: the profile to run the message under. |
| `at` | RFC 3339 receipt time override (not used so far: no expectation here depends on the time of day). |
| `language` | `"ja"` / `"en"`: the report's own language (Japanese when the meaningful body text is Japanese, even with English labels or error text). |
| `customer_id` | normalised ID (`"ACME-0012"`) or `null`: from a labelled line (`お客様番号`, `お客様ID`, `顧客番号`, `契約番号`, `Customer ID`, `Account ID`, also as 【】/■ headings and in full width), else inferred from the sender when the sender is a contact of exactly one customer; `null` for an unknown sender, or for `consultant@partner.example.net` (contact of HOKUTO-0555 and NAMI-0777) when the text names neither. |
| `case_ref` | `"CASE-2026-000123"` normalised from the subject tag in any bracket style (`[..]`, `【..】`, full-width `［ＣＡＳＥ－..］`, `＃..`), or `null`. |
| `priority` | only where DECLARED (text `Priority: High`, `優先度：高`, `優先度: 中`, `Severity: 2`, `重要度：1`, `重要度レベル 1`, `重要度：4`; form field `高/中/低`, `high/medium/low`, `sev1..sev4`, `1..4`), or where it is obviously the profile default (no urgency words at all: `low` / `sev3`), or a three-priority feature request (`low`, POLICY section 4). Borderline keyword-rule outcomes are deliberately not asserted. |
| `feature_request` | bool. `false` is stated only for plain incident reports. |
| `action` | `"ignore"` for every auto-reply, bounce, list message and our own mail coming back; `"followup"` for a reply to an existing case (case tag in the subject, or our Message-ID in In-Reply-To/References) from an allowed sender. Also stated where POLICY section 5's table decides it whatever the time of receipt: `"reject"` (suspended customer; four-severity sender who is not an authorized contact, follow-ups included), `"not_covered"` (four-severity enhancement request), `"await_info"` (four-severity, required item (a)-(d) missing). Omitted where it depends on business hours (dispatch / escalate / hold). |
| `signals` | the exact set of ignore signals present, in this canonical order: `auto_submitted`, `precedence`, `list_id`, `x_autoreply`, `x_autorespond`, `x_auto_response_suppress`, `null_return_path`, `mailer_daemon`, `delivery_report`, `own_message_id`, `loop_header`. Evaluated on the message's own top-level header (the headers of a returned message inside a bounce report do not count). `[]` for humans, including `Auto-Submitted: no` and `Precedence: normal`, and a reply whose In-Reply-To is one of our Message-IDs. |
| `missing` | the exact set (order irrelevant) of items (a)-(e) NOT found: `customer_id`, `repro_steps`, `error_messages`, `description`, `circumstances`. An inferred customer ID counts as present. |
| `fields_contain` | `{"repro_steps": [...], "error_messages": [...], "description": [...], "circumstances": [...]}`: each substring must occur in that field after NFKC normalisation of the field (so expectations are written in NFKC form: `ACME-0012`, `:`, `(株)` for ㈱, `1` for ①, `III` for Ⅲ, `No` for №, `ミリ` for ㍉, full-width katakana for ｶﾀｶﾅ, a space for NBSP). For `error_messages` each substring must occur in some element of the list. The expected result (`期待される結果`, `Expected result`, form `expected_result`) belongs to `description`. |
| `fields_exclude` | substrings (NFKC) that must not occur in any of the four text fields: quoted text, our own acknowledgment, signature lines and phone numbers, greetings and closings (`いつもお世話になっております`, `よろしくお願いいたします`, `Best regards`), HTML tags, `<style>`/`<script>` content, raw entities. |
| `subject_contains` | substrings of the decoded Subject, NOT normalised: ① ㈱ Ⅲ № 髙 﨑 must survive exactly. |
| `body_contains` | substrings of the decoded text body, NOT normalised: the text/plain part (preferred in multipart/alternative), or for HTML-only mail the text after tag removal and entity decoding. |
| `attachments` | the message's attachments, all of them, in MIME order: `{"filename": exact decoded name, "content_type": type/subtype without parameters}`. A part with a file name counts even with `Content-Disposition: inline` (Apple Mail sends photos so). |

Broken inputs: `{"outcome": "error"}` only for the empty file and the header-less binary
garbage; everything that has any header is `{"outcome": "best_effort"}`: the parser returns what
it can, does not panic, does not hang, and does not block the messages after it.

## Conventions used when writing the expectations

- Greetings, closings, addressing lines (`サポートご担当者様`, `御中`) and the writer's
  self-introduction belong to no field. Where there are no labels (or no description label), the
  free text that remains after removing those, quotes, signatures and the other items is the
  description (POLICY section 3).
- Quoted text is never part of a field: `>` lines and their attribution line (`On ... wrote:`,
  `2026年11月24日(火) 10:00 山田 <...>:`), and everything from a quote header block down:
  `-----Original Message-----`, Outlook's `From:/Sent:/To:/Subject:` (also Japanese
  `差出人:/送信日時:/宛先:/件名:` and German `Von:/Gesendet:/An:/Betreff:`), often after a
  `________________________________` rule. In `outlook-original-message-block` the quoted
  internal mail carries a labelled `発生状況`, and circumstances is therefore missing.
- Signatures: `-- `, `──────`, `━━━━`, `＝＝＝＝`, `-----` rules, `iPhoneから送信`, and
  name/company/phone blocks after the closing.
- Forwarded messages (`-------- 転送メッセージ --------`) are not asserted either way: only the
  text above the forward marker is.
- Unlabelled error output counts as error text (`Error:`, `Exception`, stack traces,
  `ORA-`, `HTTP/1.1 500`, lines containing `エラー`), and so does an attached `.log` /
  `text/plain` file. A labelled error block that says that no error is shown (`エラーは表示されません`)
  still counts as item (c) being answered.
- Contacts: an address matches a full-address contact exactly, and an `@domain` contact on the
  exact domain. `tanaka@acme.example.jp` is not a contact (ACME lists only
  `yamada@acme.example.jp` and `@ops.acme.example.jp`).
- Character mapping: ISO-2022-JP and Shift_JIS are decoded as Microsoft does (CP50220/CP50221,
  CP932), so JIS 0x215D is U+FF0D `－` and 0x2141 is U+FF5E `～`; `body_contains` therefore uses
  `ＡＣＭＥ－００１２` with U+FF0D. No expectation depends on `～`.

## How the raw bytes are made

- ISO-2022-JP the way Outlook (CP50220) writes it: each character is encoded to CP932 and the
  Shift_JIS code is converted to JIS; NEC row-13 characters (① ㈱ Ⅲ № ㍉) become JIS row 13
  (`ESC $ B` then 0x2D21 ...), IBM extension kanji (髙 﨑) become their NEC-selected codes (JIS
  rows 89-92), as CP50220 does. Python's own iso2022_jp codec refuses all of these.
- Shift_JIS bodies the way Windows writes CP932: IBM extension kanji in rows 0xFA-0xFC.
- Encoded-words, including words cut inside a character (ISO-2022-JP and UTF-8), RFC 2231
  parameters (`filename*=ISO-2022-JP''...`, `filename*0*=UTF-8'ja'...` continuations cut inside a
  character), RFC 2047 words inside quoted `name=`/`filename=` (Outlook), raw 8-bit Shift_JIS in
  the Subject, quoted-printable and base64, are assembled by hand in `generate.py`.
- Charset labels covered: `ISO-2022-JP`, none at all (no charset parameter; no Content-Type
  header), `Shift_JIS`, `iso-8859-1` on Shift_JIS bytes (wrong label), `CP932`, `x-sjis`,
  `Windows-31J`, `ISO-2022-JP-MS`, `CP50220`, `EUC-JP`, `UTF-8` (8bit, base64, quoted-printable),
  `us-ascii`.
- Regression cases from other help desks (shared/notes/peers.md): zammad#2498 (ISO-2022-JP
  quoted-printable), #4680 / #6144 (raw JIS escapes; no charset parameter), freescout#3312
  (subject over several encoded-words), #3124 (NEC/IBM characters in subject and attachment
  names), #688 / osTicket#1041 (auto-reply loops), django-helpdesk (8-bit Shift_JIS stored as
  mojibake, backslashes in 8-bit UTF-8 mangled, text attachments dropped).

## Index

| file | key expectations |
|---|---|
{{INDEX}}
"""


def main():
    selftest_encoders()
    for f in (mails_charsets, mails_mime, mails_structure, mails_priority, mails_four_severity,
              mails_feature_requests, mails_followups, mails_ignore):
        f()
    forms()
    broken_inputs()
    check_all()
    write_all()
    print("wrote %d mail messages, %d forms, %d broken inputs under %s" % (
        len(MAILS), len(FORMS), len(BROKEN), ROOT))


if __name__ == "__main__":
    main()
