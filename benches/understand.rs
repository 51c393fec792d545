//! Throughput of understanding mail, against the bare MIME parse it is built on.
//!
//! Run with `cargo bench --bench understand` (a `harness = false` bench: plain `fn main`,
//! timed with `std::time::Instant`, no criterion).
//!
//! The message set is every `.eml` under `tests/corpus/mail` plus a deterministic synthetic
//! mix built in memory: variants of the corpus files (new Message-ID, an extra Received hop,
//! a changed subject, a line added to plain 7bit/8bit bodies) and messages assembled from
//! templates in the charsets and shapes Japanese support mail arrives in (ISO-2022-JP from
//! Outlook, Shift_JIS base64 and quoted-printable, EUC-JP, UTF-8 text+HTML alternatives,
//! multipart/mixed with logs and screenshots, replies quoting our acknowledgment, HTML-only
//! mail, auto-replies and bounces). The same seed always gives the same bytes.
//!
//! Then, single-threaded and in the same run, it times over the same messages:
//!   (a) bare  `mail_parser::MessageParser::default().parse(bytes)`
//!   (b) full  `uketsuke::understand::understand_mail(bytes, &config)`
//! for several rounds each (interleaved a, b, a, b, ...), and prints messages/s, MB/s and the
//! ratio of their costs.
//!
//! Environment knobs: `UKETSUKE_BENCH_SYNTHETIC` (number of synthetic messages, default
//! 2000), `UKETSUKE_BENCH_ROUNDS` (default 7), `UKETSUKE_BENCH_SEED` (default 0x5eed), and
//! `UKETSUKE_BENCH_PROFILE` (set: only understand_mail, `ROUNDS` times, for a profiler; set
//! to a group's name, such as `plain euc-jp/8bit`, only that group's messages) and
//! `UKETSUKE_BENCH_PROFILE_BARE` (set as well: the bare parse instead, to compare the two
//! under an instruction counter such as cachegrind, which no other load on the machine sways).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use uketsuke::config::{Config, Overrides};
use uketsuke::understand::understand_mail;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Encoders
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cs {
    Jis,
    Sjis,
    Euc,
    Utf8,
}

impl Cs {
    fn label(self) -> &'static str {
        match self {
            Cs::Jis => "ISO-2022-JP",
            Cs::Sjis => "Shift_JIS",
            Cs::Euc => "EUC-JP",
            Cs::Utf8 => "UTF-8",
        }
    }
    fn encode(self, text: &str) -> Vec<u8> {
        let enc = match self {
            Cs::Jis => encoding_rs::ISO_2022_JP,
            Cs::Sjis => encoding_rs::SHIFT_JIS,
            Cs::Euc => encoding_rs::EUC_JP,
            Cs::Utf8 => return text.as_bytes().to_vec(),
        };
        enc.encode(text).0.into_owned()
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[n as usize & 63] as char } else { '=' });
    }
    out
}

/// Base64 body: 76-character lines.
fn base64_lines(data: &[u8]) -> Vec<u8> {
    let flat = base64(data);
    let mut out = Vec::with_capacity(flat.len() + flat.len() / 76 + 2);
    for line in flat.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// Quoted-printable body (line breaks of the text kept as hard breaks).
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 2);
    for line in data.split(|&b| b == b'\n') {
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal = (33..=126).contains(&b) && b != b'=' || (b == b' ' && !last);
            let width = if literal { 1 } else { 3 };
            if col + width > 75 {
                out.extend_from_slice(b"=\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(format!("={b:02X}").as_bytes());
            }
            col += width;
        }
        out.push(b'\n');
    }
    out.pop();
    out
}

/// A header value: ASCII as is, anything else as B encoded-words of at most 10 characters each
/// (every ISO-2022-JP word self-contained, as Outlook writes them).
fn encoded_words(text: &str, cs: Cs) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let words: Vec<String> = chars
        .chunks(10)
        .map(|c| {
            let s: String = c.iter().collect();
            format!("=?{}?B?{}?=", cs.label(), base64(&cs.encode(&s)))
        })
        .collect();
    words.join("\n ")
}

fn mailbox(name: &str, address: &str, cs: Cs) -> String {
    if name.is_ascii() { format!("\"{name}\" <{address}>") } else { format!("{} <{address}>", encoded_words(name, cs)) }
}

// ---------------------------------------------------------------------------------------------
// Content pools
// ---------------------------------------------------------------------------------------------

struct Person {
    name: &'static str,
    surname: &'static str,
    address: &'static str,
    company: &'static str,
    customer_id: &'static str,
    japanese: bool,
}

const PEOPLE: &[Person] = &[
    Person {
        name: "山田 太郎",
        surname: "山田",
        address: "yamada@acme.example.jp",
        company: "株式会社アクメ",
        customer_id: "ACME-0012",
        japanese: true,
    },
    Person {
        name: "佐藤 花子",
        surname: "佐藤",
        address: "sato@ops.acme.example.jp",
        company: "株式会社アクメ",
        customer_id: "ACME-0012",
        japanese: true,
    },
    Person {
        name: "鈴木 一郎",
        surname: "鈴木",
        address: "suzuki@sakura-logi.example.jp",
        company: "さくら物流株式会社",
        customer_id: "SAKURA-0301",
        japanese: true,
    },
    Person {
        name: "中村 恵",
        surname: "中村",
        address: "nakamura@sakura-logi.example.jp",
        company: "さくら物流株式会社",
        customer_id: "SAKURA-0301",
        japanese: true,
    },
    Person {
        name: "伊藤 翔",
        surname: "伊藤",
        address: "ito@hokuto.example.jp",
        company: "北斗システム株式会社",
        customer_id: "HOKUTO-0555",
        japanese: true,
    },
    Person {
        name: "小林 直樹",
        surname: "小林",
        address: "kobayashi@initech.example.jp",
        company: "イニテック株式会社",
        customer_id: "INITECH-0007",
        japanese: true,
    },
    Person {
        name: "渡辺 健太",
        surname: "渡辺",
        address: "consultant@partner.example.net",
        company: "波デザイン合同会社",
        customer_id: "NAMI-0777",
        japanese: true,
    },
    Person {
        name: "田中 浩二",
        surname: "田中",
        address: "tanaka@acme.example.jp",
        company: "株式会社アクメ",
        customer_id: "ACME-0012",
        japanese: true,
    },
    Person {
        name: "John Miller",
        surname: "Miller",
        address: "j.miller@globex.example.com",
        company: "Globex Corporation",
        customer_id: "GLOBEX-0042",
        japanese: false,
    },
    Person {
        name: "Anna Schmidt",
        surname: "Schmidt",
        address: "a.schmidt@globex.example.com",
        company: "Globex Corporation",
        customer_id: "GLOBEX-0042",
        japanese: false,
    },
    Person {
        name: "Kenji Ito",
        surname: "Ito",
        address: "it-desk@umbrella.example.com",
        company: "Umbrella Systems K.K.",
        customer_id: "UMBRELLA-0100",
        japanese: false,
    },
    Person {
        name: "Priya Nair",
        surname: "Nair",
        address: "p.nair@globex.example.com",
        company: "Globex Corporation",
        customer_id: "GLOBEX-0042",
        japanese: false,
    },
];

const JA_SUBJECTS: &[&str] = &[
    "ログインできない件について",
    "【至急】本番環境でエラーが発生しています",
    "CSV出力が途中で止まる",
    "請求書PDFの金額表示について",
    "APIのレスポンスが遅い件",
    "出荷指示の一括登録でエラー",
    "管理画面が表示されません",
    "パスワードリセットのメールが届かない",
    "データ連携の失敗について（緊急）",
    "機能追加のご相談",
    "月次レポートの集計値が合わない",
    "SSO連携後にログインできなくなりました",
];

const EN_SUBJECTS: &[&str] = &[
    "Cannot log in after password reset",
    "URGENT: production is down",
    "CSV export stops at 10,000 rows",
    "API returns 502 Bad Gateway intermittently",
    "Invoice totals differ from the dashboard",
    "Feature request: scheduled report exports",
    "Webhook deliveries failing since this morning",
    "SAML login loop for some users",
];

const JA_INTRO: &[&str] = &[
    "標記の件について、お問い合わせいたします。",
    "本日朝から以下の事象が発生しており、業務に影響が出ております。",
    "昨日のメンテナンス以降、一部の利用者で問題が発生しています。",
    "先日お問い合わせした件とは別件でご相談させてください。",
    "社内で調査しましたが原因が分からず、ご連絡いたしました。",
];

const JA_DESCRIPTION: &[&str] = &[
    "管理画面にログインしようとすると、認証後に白い画面が表示されたまま先に進めません。",
    "CSV出力を実行すると、約3万件の時点で処理が止まり、ファイルが途中までしか出力されません。",
    "出荷指示をExcelから一括登録すると、一部の行だけがエラーになり登録されません。",
    "APIのレスポンスが通常200ms程度のところ、10秒以上かかることがあります。",
    "請求書PDFの合計金額が画面の表示と1円ずれています。消費税の端数処理の違いと思われます。",
    "本番環境が停止しており、全拠点で受注登録ができない状態です。回避策はありません。",
    "パスワードリセットのメールが届かず、利用者がログインできない状態です。",
    "月次レポートの集計値が、前月分だけ二重に計上されているようです。",
    "画面の一部で文字化けが発生しています。表示の乱れのみで業務への影響は小さいです。",
];

const JA_STEPS: &[&str] = &[
    "管理画面（https://admin.uketsuke.example.jp/）を開く",
    "IDとパスワードを入力してログインする",
    "メニューから「データ出力」を選択する",
    "期間を2026年10月1日〜10月31日に指定する",
    "「CSV出力」ボタンを押す",
    "出荷指示の取込画面で、テンプレートに沿ったExcelファイルを選択する",
    "「取込実行」を押す",
    "エラー一覧画面に遷移する",
    "利用者の設定画面から「パスワード再設定」を押す",
    "しばらく待っても画面が切り替わらない",
];

const JA_CIRCUMSTANCES: &[&str] = &[
    "発生日時：2026年11月25日 9:30頃から",
    "利用環境：Windows 11 / Microsoft Edge 130",
    "利用環境：macOS 15 / Google Chrome 131",
    "発生頻度：毎回発生します",
    "影響範囲：全拠点の約200名",
    "特記事項：昨日のリリース後から発生しています",
    "その他：社内プロキシ経由で接続しています",
];

const ERROR_LINES: &[&str] = &[
    "Error: ETIMEDOUT connect 203.0.113.20:443",
    "HTTP 502 Bad Gateway",
    "ERR-4031 認証トークンの有効期限が切れています",
    "java.lang.IllegalStateException: Connection pool exhausted",
    "ORA-01555: snapshot too old: rollback segment number 7 with name \"_SYSSMU7$\" too small",
    "SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry '1042' for key 'PRIMARY'",
    "500 Internal Server Error",
    "AADSTS50011: The redirect URI specified in the request does not match",
    "TypeError: Cannot read properties of undefined (reading 'items')",
    "エラーコード：E-20031",
];

const STACK: &[&str] = &[
    "java.lang.NullPointerException: Cannot invoke \"com.example.order.Order.getItems()\" because \"order\" is null",
    "\tat com.example.order.OrderService.total(OrderService.java:142)",
    "\tat com.example.order.OrderController.show(OrderController.java:57)",
    "\tat jdk.internal.reflect.GeneratedMethodAccessor311.invoke(Unknown Source)",
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)",
    "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.",
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
];

const EN_DESCRIPTION: &[&str] = &[
    "Since about 09:15 JST none of our users can log in; the login page redirects back to itself.",
    "The CSV export stops after exactly 10,000 rows and the file is truncated.",
    "Roughly one in five API calls returns 502 Bad Gateway. There is no workaround on our side.",
    "The invoice total on the PDF differs from the dashboard by one yen.",
    "Production is down for our EU tenant: every page returns an error.",
    "Webhook deliveries to our endpoint have been failing since this morning.",
    "This is a minor issue: a typo in the German translation of the settings page.",
];

const EN_STEPS: &[&str] = &[
    "Open https://app.uketsuke.example.jp/ in Chrome",
    "Sign in with a user that has the Finance role",
    "Go to Reports > Export",
    "Select October 2026 and click Export CSV",
    "Wait for the download to finish",
    "Call POST /api/v2/orders with the attached payload",
    "Repeat the call about 20 times",
];

const LOG_MESSAGES: &[&str] = &[
    "INFO  [main] c.e.batch.ExportJob - export started: tenant=acme rows=31244",
    "WARN  [pool-3-thread-2] c.e.batch.ExportJob - slow query: 4210 ms",
    "ERROR [pool-3-thread-2] c.e.batch.ExportJob - export failed at row 30001",
    "INFO  [http-nio-8080-exec-7] c.e.api.OrderController - GET /api/v2/orders/1042 200 38ms",
    "ERROR [http-nio-8080-exec-4] c.e.api.OrderController - POST /api/v2/orders 500 10023ms",
    "DEBUG [scheduler-1] c.e.sync.SyncService - sync cycle 8812 finished, 0 changes",
    "WARN  [http-nio-8080-exec-9] o.a.c.c.C.[Tomcat].[localhost] - Session expired for user 77",
];

// ---------------------------------------------------------------------------------------------
// Message assembly
// ---------------------------------------------------------------------------------------------

struct Msg {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Msg {
    fn bytes(&self, crlf: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 1024);
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        if crlf { to_crlf(&out) } else { out }
    }
}

fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    for &b in raw {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn date_header(rng: &mut Rng) -> (String, u32) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = rng.below(12);
    let day = rng.range(1, 28);
    let (h, m, s) = (rng.below(24), rng.below(60), rng.below(60));
    (
        format!("{}, {day} {} 2026 {h:02}:{m:02}:{s:02} +0900", DAYS[rng.below(7)], MONTHS[month]),
        (month * 31 + day) as u32,
    )
}

fn common_headers(rng: &mut Rng, seq: usize, who: &Person, subject: &str, cs: Cs) -> Vec<(String, String)> {
    let (date, _) = date_header(rng);
    let domain = who.address.split('@').nth(1).unwrap_or("example.jp");
    let mut h = Vec::new();
    h.push(("Return-Path".into(), format!("<{}>", who.address)));
    for hop in 0..rng.range(1, 3) {
        h.push((
            "Received".into(),
            format!(
                "from mail{hop}.{domain} (mail{hop}.{domain} [192.0.2.{}])\n\tby mx1.uketsuke.example.jp (Postfix) with ESMTPS id {:010X}\n\tfor <support@uketsuke.example.jp>; {date}",
                rng.range(2, 250),
                rng.next() & 0xFF_FFFF_FFFF
            ),
        ));
    }
    h.push(("From".into(), mailbox(who.name, who.address, cs)));
    h.push(("To".into(), "support@uketsuke.example.jp".into()));
    if rng.chance(20) {
        h.push(("Cc".into(), format!("manager@{domain}")));
    }
    h.push(("Subject".into(), encoded_words(subject, cs)));
    h.push(("Date".into(), date));
    h.push(("Message-ID".into(), format!("<{:016x}.{seq}@{domain}>", rng.next())));
    let mailer = rng.pick(&[
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("User-Agent", "Mozilla Thunderbird"),
        ("X-Mailer", "Becky! ver. 2.81.04 [ja]"),
        ("X-Mailer", "iPhone Mail (22B91)"),
        ("", ""),
    ]);
    if !mailer.0.is_empty() {
        h.push((mailer.0.into(), mailer.1.into()));
    }
    h.push(("MIME-Version".into(), "1.0".into()));
    h
}

/// One Japanese report body in one of the layouts customers use.
fn ja_body(rng: &mut Rng, who: &Person) -> String {
    let mut b = String::new();
    b.push_str("株式会社ウケツケ\nサポートご担当者様\n\nいつもお世話になっております。\n");
    b.push_str(&format!("{}の{}です。\n\n", who.company, who.surname));
    b.push_str(rng.pick(JA_INTRO));
    b.push_str("\n\n");
    let style = rng.below(3);
    let label = |name: &str| match style {
        0 => format!("【{name}】\n"),
        1 => format!("■{name}\n"),
        _ => format!("{name}：\n"),
    };
    if rng.chance(85) {
        let id = if rng.chance(20) {
            who.customer_id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { '－' })
                .collect()
        } else {
            who.customer_id.to_string()
        };
        b.push_str(&label("お客様番号"));
        b.push_str(&id);
        b.push_str("\n\n");
    }
    if rng.chance(25) {
        b.push_str(&label("優先度"));
        b.push_str(rng.pick(&["高", "中", "低", "緊急"]));
        b.push_str("\n\n");
    }
    b.push_str(&label("現象"));
    for _ in 0..rng.range(1, 3) {
        b.push_str(rng.pick(JA_DESCRIPTION));
        b.push('\n');
    }
    b.push('\n');
    if rng.chance(80) {
        b.push_str(&label("再現手順"));
        for i in 1..=rng.range(2, 6) {
            b.push_str(&format!("{i}. {}\n", rng.pick(JA_STEPS)));
        }
        b.push('\n');
    }
    if rng.chance(75) {
        b.push_str(&label("エラーメッセージ"));
        for _ in 0..rng.range(1, 3) {
            b.push_str(rng.pick(ERROR_LINES));
            b.push('\n');
        }
        if rng.chance(30) {
            for line in &STACK[..rng.range(2, STACK.len())] {
                b.push_str(line);
                b.push('\n');
            }
        }
        b.push('\n');
    }
    if rng.chance(70) {
        b.push_str(&label("発生状況"));
        for _ in 0..rng.range(1, 4) {
            b.push_str(rng.pick(JA_CIRCUMSTANCES));
            b.push('\n');
        }
        b.push('\n');
    }
    if rng.chance(20) {
        b.push_str("ログの抜粋を貼り付けます。\n\n");
        let n = rng_count(rng);
        log_lines(rng, &mut b, n);
        b.push('\n');
    }
    b.push_str("お忙しいところ恐れ入りますが、ご確認のほどよろしくお願いいたします。\n\n-- \n");
    b.push_str(&format!(
        "{}\n情報システム部\n{}\nTEL: 03-{:04}-{:04}\n",
        who.company,
        who.name,
        rng.below(10000),
        rng.below(10000)
    ));
    b
}

fn rng_count(rng: &mut Rng) -> usize {
    if rng.chance(10) { rng.range(200, 600) } else { rng.range(5, 40) }
}

fn log_lines(rng: &mut Rng, out: &mut String, n: usize) {
    for i in 0..n {
        out.push_str(&format!(
            "2026-11-{:02} {:02}:{:02}:{:02}.{:03} {}\n",
            rng.range(1, 28),
            rng.below(24),
            rng.below(60),
            i % 60,
            rng.below(1000),
            rng.pick(LOG_MESSAGES)
        ));
    }
}

fn en_body(rng: &mut Rng, who: &Person) -> String {
    let mut b = String::new();
    b.push_str(rng.pick(&["Hello,\n\n", "Hi team,\n\n", "Dear Support,\n\n"]));
    if rng.chance(80) {
        b.push_str(&format!("Customer ID: {}\n", who.customer_id));
    }
    if rng.chance(30) {
        b.push_str(&format!("Priority: {}\n", rng.pick(&["High", "Medium", "Low", "Sev2", "critical"])));
    }
    b.push('\n');
    b.push_str("Description:\n");
    for _ in 0..rng.range(1, 3) {
        b.push_str(rng.pick(EN_DESCRIPTION));
        b.push('\n');
    }
    b.push('\n');
    if rng.chance(80) {
        b.push_str("Steps to reproduce:\n");
        for i in 1..=rng.range(2, 5) {
            b.push_str(&format!("{i}. {}\n", rng.pick(EN_STEPS)));
        }
        b.push('\n');
    }
    if rng.chance(75) {
        b.push_str("Error message:\n");
        for _ in 0..rng.range(1, 3) {
            b.push_str(rng.pick(&ERROR_LINES[..9]));
            b.push('\n');
        }
        if rng.chance(35) {
            b.push_str("Traceback (most recent call last):\n  File \"/srv/sync/run.py\", line 88, in <module>\n    main()\n  File \"/srv/sync/run.py\", line 61, in main\n    resp.raise_for_status()\nrequests.exceptions.HTTPError: 502 Server Error: Bad Gateway for url: https://api.uketsuke.example.jp/v2/orders\n");
        }
        b.push('\n');
    }
    if rng.chance(60) {
        b.push_str(&format!(
            "Environment: {}\n\n",
            rng.pick(&["Windows 11, Edge 130", "macOS 15, Chrome 131", "Ubuntu 24.04, Python 3.12, requests 2.32"])
        ));
    }
    if rng.chance(15) {
        b.push_str("Log excerpt:\n");
        let n = rng_count(rng);
        log_lines(rng, &mut b, n);
        b.push('\n');
    }
    b.push_str(&format!("Best regards,\n{}\n{}\n", who.name, who.company));
    b
}

fn html_of(text: &str) -> String {
    let mut h = String::from(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><style>p{margin:0}</style></head><body><div dir=\"ltr\">\n",
    );
    for line in text.lines() {
        if line.is_empty() {
            h.push_str("<p>&nbsp;</p>\n");
        } else {
            let esc = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            h.push_str(&format!("<p class=\"MsoNormal\"><span style=\"font-family:Meiryo\">{esc}</span></p>\n"));
        }
    }
    h.push_str("</div></body></html>\n");
    h
}

fn text_part(text: &str, cs: Cs, cte: &str, subtype: &str) -> Vec<u8> {
    let raw = cs.encode(text);
    let mut out =
        format!("Content-Type: text/{subtype}; charset=\"{}\"\nContent-Transfer-Encoding: {cte}\n\n", cs.label())
            .into_bytes();
    match cte {
        "base64" => out.extend(base64_lines(&raw)),
        "quoted-printable" => out.extend(quoted_printable(&raw)),
        _ => out.extend(raw),
    }
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

fn multipart(boundary: &str, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"This is a multi-part message in MIME format.\n".to_vec();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\n").as_bytes());
        out.extend_from_slice(p);
    }
    out.extend_from_slice(format!("--{boundary}--\n").as_bytes());
    out
}

fn binary_attachment(rng: &mut Rng, ctype: &str, filename: &str, size: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
    let mut out = format!(
        "Content-Type: {ctype}; name=\"{filename}\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"{filename}\"\n\n"
    )
    .into_bytes();
    out.extend(base64_lines(&data));
    out
}

fn synthetic(rng: &mut Rng, seq: usize) -> (Vec<u8>, &'static str) {
    let who = &PEOPLE[rng.below(PEOPLE.len())];
    let ja = who.japanese;
    let subject: String = if ja { rng.pick(JA_SUBJECTS).to_string() } else { rng.pick(EN_SUBJECTS).to_string() };
    let body = if ja { ja_body(rng, who) } else { en_body(rng, who) };
    let crlf = rng.chance(85);
    let roll = rng.below(100);
    let kind: &'static str;
    let msg = if roll < 28 {
        // Outlook, ISO-2022-JP 7bit (English mail: us-ascii-ish UTF-8 7bit).
        kind = "plain iso-2022-jp/7bit";
        let cs = if ja { Cs::Jis } else { Cs::Utf8 };
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), format!("text/plain; charset=\"{}\"", cs.label())));
        h.push(("Content-Transfer-Encoding".into(), "7bit".into()));
        Msg { headers: h, body: cs.encode(&body) }
    } else if roll < 38 {
        kind = "plain shift_jis b64/qp";
        let cs = Cs::Sjis;
        let cte = if rng.chance(50) { "base64" } else { "quoted-printable" };
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), "text/plain; charset=\"Shift_JIS\"".into()));
        h.push(("Content-Transfer-Encoding".into(), cte.into()));
        let raw = cs.encode(&body);
        Msg { headers: h, body: if cte == "base64" { base64_lines(&raw) } else { quoted_printable(&raw) } }
    } else if roll < 42 {
        kind = "plain euc-jp/8bit";
        let cs = Cs::Euc;
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), "text/plain; charset=EUC-JP".into()));
        h.push(("Content-Transfer-Encoding".into(), "8bit".into()));
        Msg { headers: h, body: cs.encode(&body) }
    } else if roll < 60 {
        kind = "alternative utf-8 text+html";
        let cs = Cs::Utf8;
        let boundary = format!("000000000000{:012x}", rng.next() & 0xFFFF_FFFF_FFFF);
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), format!("multipart/alternative; boundary=\"{boundary}\"")));
        let parts =
            [text_part(&body, cs, "base64", "plain"), text_part(&html_of(&body), cs, "quoted-printable", "html")];
        Msg { headers: h, body: multipart(&boundary, &parts) }
    } else if roll < 74 {
        kind = "mixed with log + binary attachments";
        let cs = if ja { Cs::Jis } else { Cs::Utf8 };
        let boundary = format!("----=_NextPart_{:016X}", rng.next());
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), format!("multipart/mixed; boundary=\"{boundary}\"")));
        let mut parts = vec![text_part(&body, cs, "7bit", "plain")];
        if rng.chance(70) {
            let mut log = String::new();
            let n = rng.range(20, 400);
            log_lines(rng, &mut log, n);
            let mut p = b"Content-Type: text/plain; charset=\"us-ascii\"; name=\"app.log\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"app.log\"\n\n".to_vec();
            p.extend(base64_lines(log.as_bytes()));
            parts.push(p);
        }
        let size = if rng.chance(15) { rng.range(20_000, 60_000) } else { rng.range(800, 6_000) };
        let (ct, name) = rng.pick(&[
            ("image/png", "screenshot.png"),
            ("application/pdf", "invoice.pdf"),
            ("image/jpeg", "IMG_0412.JPG"),
        ]);
        parts.push(binary_attachment(rng, ct, name, size));
        Msg { headers: h, body: multipart(&boundary, &parts) }
    } else if roll < 86 {
        kind = "reply quoting our acknowledgment";
        let cs = if ja { Cs::Jis } else { Cs::Utf8 };
        let case = format!("CASE-2026-{:06}", rng.range(1, 999));
        let subject = format!("RE: [{case}] {subject}");
        let mut h = common_headers(rng, seq, who, &subject, cs);
        let ours = format!("<{:012x}.{:08x}@uketsuke.example.jp>", rng.next() & 0xFFFF_FFFF_FFFF, rng.next() as u32);
        h.push(("In-Reply-To".into(), ours.clone()));
        h.push(("References".into(), ours));
        h.push(("Content-Type".into(), format!("text/plain; charset=\"{}\"", cs.label())));
        h.push(("Content-Transfer-Encoding".into(), if cs == Cs::Jis { "7bit" } else { "8bit" }.into()));
        let mut text = String::new();
        text.push_str(if ja {
            "ご連絡ありがとうございます。不足していた情報をお送りします。\n\n"
        } else {
            "Thanks, here is the missing information.\n\n"
        });
        text.push_str(&body);
        text.push_str(if ja {
            "\n2026/11/25 10:02、support@uketsuke.example.jp のメッセージ:\n"
        } else {
            "\nOn Wed, 25 Nov 2026 at 10:02, Uketsuke Support <support@uketsuke.example.jp> wrote:\n"
        });
        for line in body.lines().take(30) {
            text.push_str("> ");
            text.push_str(line);
            text.push('\n');
        }
        Msg { headers: h, body: cs.encode(&text) }
    } else if roll < 93 {
        kind = "html only";
        let cs = if ja && rng.chance(50) { Cs::Sjis } else { Cs::Utf8 };
        let mut h = common_headers(rng, seq, who, &subject, cs);
        h.push(("Content-Type".into(), format!("text/html; charset=\"{}\"", cs.label())));
        h.push(("Content-Transfer-Encoding".into(), "quoted-printable".into()));
        Msg { headers: h, body: quoted_printable(&cs.encode(&html_of(&body))) }
    } else if roll < 97 {
        kind = "auto-reply";
        let cs = Cs::Jis;
        let mut h = common_headers(rng, seq, who, &format!("自動応答: {subject}"), cs);
        h.push(("Auto-Submitted".into(), "auto-replied".into()));
        h.push(("X-Auto-Response-Suppress".into(), "All".into()));
        h.push(("Content-Type".into(), "text/plain; charset=\"ISO-2022-JP\"".into()));
        Msg {
            headers: h, body: cs.encode("ただいま不在にしております。11月30日以降に順次対応いたします。\n")
        }
    } else {
        kind = "bounce (multipart/report)";
        let boundary = format!("{:X}.{}/mx1.uketsuke.example.jp", rng.next() & 0xFFFF_FFFF, seq);
        let postmaster = Person {
            name: "Mail Delivery System",
            surname: "",
            address: "MAILER-DAEMON@mx1.acme.example.jp",
            company: "",
            customer_id: "",
            japanese: false,
        };
        let mut h = common_headers(rng, seq, &postmaster, "Undelivered Mail Returned to Sender", Cs::Utf8);
        h[0].1 = "<>".into();
        h.push((
            "Content-Type".into(),
            format!("multipart/report; report-type=delivery-status; boundary=\"{boundary}\""),
        ));
        let parts = [
            b"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host mx1.acme.example.jp.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<nobody@acme.example.jp>: host mail.acme.example.jp[192.0.2.10] said: 550 5.1.1\n    User unknown (in reply to RCPT TO command)\n".to_vec(),
            b"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx1.acme.example.jp\n\nFinal-Recipient: rfc822; nobody@acme.example.jp\nAction: failed\nStatus: 5.1.1\n".to_vec(),
            {
                let mut p = b"Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n".to_vec();
                p.extend_from_slice(b"From: support@uketsuke.example.jp\nTo: nobody@acme.example.jp\nSubject: [CASE-2026-000123] ack\nMessage-ID: <a1b2c3d4e5f6.01234567@uketsuke.example.jp>\nX-Uketsuke-Loop: yes\n\nack\n");
                p
            },
        ];
        Msg { headers: h, body: multipart(&boundary, &parts) }
    };
    (msg.bytes(crlf), kind)
}

// ---------------------------------------------------------------------------------------------
// Corpus and its variants
// ---------------------------------------------------------------------------------------------

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            eml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

/// A variant of a corpus message: another relay hop, a new Message-ID, a numbered subject,
/// and (for single-part 7bit/8bit bodies, where appending ASCII is safe) a line more of text.
fn variant(raw: &[u8], rng: &mut Rng, seq: usize) -> Vec<u8> {
    let crlf = raw.windows(2).any(|w| w == b"\r\n");
    let nl: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let sep: &[u8] = if crlf { b"\r\n\r\n" } else { b"\n\n" };
    let split = raw.windows(sep.len()).position(|w| w == sep);
    let (head, body) = match split {
        Some(i) => (&raw[..i + nl.len()], &raw[i + sep.len()..]),
        None => (raw, &raw[raw.len()..]),
    };
    let (date, _) = date_header(rng);
    let mut out = Vec::with_capacity(raw.len() + 256);
    out.extend_from_slice(
        format!("Received: from relay{}.example.net (relay.example.net [198.51.100.{}]) by mx2.uketsuke.example.jp with ESMTP id V{seq:08}; {date}", rng.below(9), rng.range(2, 250)).as_bytes(),
    );
    out.extend_from_slice(nl);
    let head_lc = head.to_ascii_lowercase();
    let encoded_body = head_lc.windows(9).any(|w| w == b"multipart")
        || head_lc.windows(6).any(|w| w == b"base64")
        || head_lc.windows(16).any(|w| w == b"quoted-printable");
    for line in head.split_inclusive(|&b| b == b'\n') {
        let lc = line.to_ascii_lowercase();
        if lc.starts_with(b"message-id:") {
            out.extend_from_slice(
                format!("Message-ID: <v{seq}.{:012x}@variant.example.net>", rng.next() & 0xFFFF_FFFF_FFFF).as_bytes(),
            );
            out.extend_from_slice(nl);
        } else if lc.starts_with(b"subject:") && rng.chance(50) {
            let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            out.extend_from_slice(trimmed);
            out.extend_from_slice(format!(" (#{seq})").as_bytes());
            out.extend_from_slice(nl);
        } else {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(nl);
    out.extend_from_slice(body);
    if !encoded_body && rng.chance(50) {
        if !out.ends_with(nl) {
            out.extend_from_slice(nl);
        }
        out.extend_from_slice(format!("P.S. Reference number {seq} for our records.").as_bytes());
        out.extend_from_slice(nl);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn time_bare(messages: &[Vec<u8>]) -> (Duration, usize) {
    let start = Instant::now();
    let mut parsed = 0usize;
    for m in messages {
        let r = mail_parser::MessageParser::default().parse(black_box(m.as_slice()));
        parsed += usize::from(r.is_some());
        black_box(r);
    }
    (start.elapsed(), parsed)
}

fn time_understand(messages: &[Vec<u8>], config: &Config) -> (Duration, usize) {
    let start = Instant::now();
    let mut ok = 0usize;
    for m in messages {
        let r = understand_mail(black_box(m.as_slice()), black_box(config));
        ok += usize::from(r.is_ok());
        let _ = black_box(r);
    }
    (start.elapsed(), ok)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Row {
    msgs_s: f64,
    mb_s: f64,
    us_msg: f64,
}

fn row(d: Duration, count: usize, bytes: usize) -> Row {
    let s = d.as_secs_f64();
    Row { msgs_s: count as f64 / s, mb_s: bytes as f64 / 1e6 / s, us_msg: s * 1e6 / count as f64 }
}

fn main() {
    let seed = env_usize("UKETSUKE_BENCH_SEED", 0x5eed) as u64;
    let n_synthetic = env_usize("UKETSUKE_BENCH_SYNTHETIC", 2000);
    let rounds = env_usize("UKETSUKE_BENCH_ROUNDS", 7).max(1);

    let config = match Config::load(None, &Overrides::default()) {
        Ok(c) => c,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            panic!("the embedded configuration does not load");
        }
    };

    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mail");
    let mut files = Vec::new();
    eml_files(&corpus_dir, &mut files);
    files.sort();
    let corpus: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();

    // The synthetic mix: with a corpus of 40 files or more, half are corpus variants; with a
    // smaller one a quarter; with none, all come from the templates.
    let mut rng = Rng(seed);
    let n_variants = match corpus.len() {
        0 => 0,
        n if n < 40 => n_synthetic / 4,
        _ => n_synthetic / 2,
    };
    let mut groups: Vec<(&'static str, Vec<Vec<u8>>)> =
        vec![("corpus files", corpus.clone()), ("corpus variants", Vec::new())];
    for i in 0..n_variants {
        let base = &corpus[rng.below(corpus.len())];
        groups[1].1.push(variant(base, &mut rng, i));
    }
    for i in n_variants..n_synthetic {
        let (m, kind) = synthetic(&mut rng, i);
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some(g) => g.1.push(m),
            None => groups.push((kind, vec![m])),
        }
    }
    // Interleave deterministically so that kinds are mixed in the timed loop.
    let mut messages: Vec<Vec<u8>> = groups.iter().flat_map(|(_, ms)| ms.iter().cloned()).collect();
    for i in (1..messages.len()).rev() {
        let j = rng.below(i + 1);
        messages.swap(i, j);
    }

    let total_bytes: usize = messages.iter().map(Vec::len).sum();
    let mut sizes: Vec<usize> = messages.iter().map(Vec::len).collect();
    sizes.sort_unstable();
    let pct = |p: f64| sizes[((sizes.len() - 1) as f64 * p).round() as usize];

    println!("uketsuke understand bench");
    println!(
        "  machine    : {} logical CPUs, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!("  corpus     : {} .eml files under {}", corpus.len(), corpus_dir.display());
    println!(
        "  synthetic  : {} ({} corpus variants, {} from templates), seed {seed:#x}",
        n_synthetic,
        n_variants,
        n_synthetic - n_variants
    );
    println!(
        "  messages   : {} in all, {:.2} MB; size min {} / p50 {} / p90 {} / max {} bytes",
        messages.len(),
        total_bytes as f64 / 1e6,
        sizes[0],
        pct(0.5),
        pct(0.9),
        sizes[sizes.len() - 1]
    );
    for (kind, ms) in &groups {
        let b: usize = ms.iter().map(Vec::len).sum();
        println!("      {:<38} {:>5} msgs {:>9.1} KB", kind, ms.len(), b as f64 / 1e3);
    }

    // Warm-up and sanity: every message once through each.
    let (_, parsed) = time_bare(&messages);
    let (_, understood) = time_understand(&messages, &config);
    println!("  warm-up    : mail-parser parsed {parsed}/{n}, understand_mail Ok {understood}/{n}", n = messages.len());
    for (kind, ms) in &groups {
        for (i, m) in ms.iter().enumerate() {
            if let Err(e) = understand_mail(m, &config) {
                println!("      understand_mail failed on {kind} #{i}: {e}");
            }
        }
    }

    // For a profiler: only understand_mail, round after round, and nothing else.
    // `UKETSUKE_BENCH_PROFILE=<group name>`: only that group's messages.
    if let Some(group) = std::env::var_os("UKETSUKE_BENCH_PROFILE") {
        let group = group.to_string_lossy();
        let chosen = groups.iter().find(|(k, _)| *k == group).map_or(&messages, |(_, ms)| ms);
        let bare = std::env::var_os("UKETSUKE_BENCH_PROFILE_BARE").is_some();
        for _ in 0..rounds {
            if bare {
                black_box(time_bare(chosen));
            } else {
                black_box(time_understand(chosen, &config));
            }
        }
        return;
    }
    println!("  rounds     : {rounds} of each, interleaved, single thread");
    let mut bare = Vec::new();
    let mut full = Vec::new();
    let started = Instant::now();
    for r in 0..rounds {
        let (b, _) = time_bare(&messages);
        let (u, _) = time_understand(&messages, &config);
        println!(
            "      round {:>2}: bare {:>8.1} ms   understand {:>8.1} ms",
            r + 1,
            b.as_secs_f64() * 1e3,
            u.as_secs_f64() * 1e3
        );
        bare.push(b);
        full.push(u);
    }
    let wall = started.elapsed();

    let n = messages.len();
    let (bm, bb) = (row(median(bare.clone()), n, total_bytes), row(*bare.iter().min().unwrap(), n, total_bytes));
    let (um, ub) = (row(median(full.clone()), n, total_bytes), row(*full.iter().min().unwrap(), n, total_bytes));
    println!();
    println!(
        "  {:<34} | {:>12} | {:>9} | {:>9} | {:>12} | {:>9}",
        "median of rounds (best in cols 5-6)", "msgs/s", "MB/s", "µs/msg", "best msgs/s", "best MB/s"
    );
    println!("  {:-<34}-+-{:->12}-+-{:->9}-+-{:->9}-+-{:->12}-+-{:->9}", "", "", "", "", "", "");
    println!(
        "  {:<34} | {:>12.0} | {:>9.1} | {:>9.2} | {:>12.0} | {:>9.1}",
        "(a) bare mail-parser parse", bm.msgs_s, bm.mb_s, bm.us_msg, bb.msgs_s, bb.mb_s
    );
    println!(
        "  {:<34} | {:>12.0} | {:>9.1} | {:>9.2} | {:>12.0} | {:>9.1}",
        "(b) understand_mail", um.msgs_s, um.mb_s, um.us_msg, ub.msgs_s, ub.mb_s
    );
    println!("  {:-<34}-+-{:->12}-+-{:->9}-+-{:->9}-+-{:->12}-+-{:->9}", "", "", "", "", "", "");
    println!(
        "  ratio understand/bare (time per message): {:.2}x median, {:.2}x best  (understanding adds {:.2} µs/msg over the parse)",
        um.us_msg / bm.us_msg,
        ub.us_msg / bb.us_msg,
        um.us_msg - bm.us_msg
    );
    println!("  timed wall time: {:.2} s", wall.as_secs_f64());

    // Per group, one best-of-3 pass each: where the time goes.
    println!();
    println!("  per group (best of 3)                  |  msgs | mean KB | bare µs/msg | understand µs/msg | ratio");
    for (kind, ms) in &groups {
        if ms.is_empty() {
            continue;
        }
        let b = (0..3).map(|_| time_bare(ms).0).min().unwrap();
        let u = (0..3).map(|_| time_understand(ms, &config).0).min().unwrap();
        let bytes: usize = ms.iter().map(Vec::len).sum();
        let (bu, uu) = (b.as_secs_f64() * 1e6 / ms.len() as f64, u.as_secs_f64() * 1e6 / ms.len() as f64);
        println!(
            "  {:<38} | {:>5} | {:>7.1} | {:>11.2} | {:>17.2} | {:>5.2}x",
            kind,
            ms.len(),
            bytes as f64 / 1e3 / ms.len() as f64,
            bu,
            uu,
            uu / bu
        );
    }
    stages(&messages, &config);
    long_subjects(&config);
    separators(&config);
}

/// Where understanding's own time goes, stage by stage over the same messages (best of 5):
/// taking the message apart and decoding it (`mime::parse`), spotting machine mail
/// (`signals::detect`), and reading the incident items (`fields::read`).
fn stages(messages: &[Vec<u8>], config: &Config) {
    use uketsuke::understand::{fields, mime, signals};
    let rules = &config.understanding;
    let parsed: Vec<mime::Parsed> = messages.iter().filter_map(|m| mime::parse(m, rules.max_log_bytes).ok()).collect();
    let best = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let per = |d: Duration| d.as_secs_f64() * 1e6 / messages.len() as f64;
    let parse = best(&|| {
        for m in messages {
            black_box(mime::parse(black_box(m), rules.max_log_bytes).ok());
        }
    });
    let detect = best(&|| {
        for p in &parsed {
            black_box(signals::detect(black_box(p), rules, &config.mail));
        }
    });
    let read = best(&|| {
        for p in &parsed {
            black_box(fields::read(black_box(&p.body), rules));
        }
    });
    let body_bytes: usize = parsed.iter().map(|p| p.body.len()).sum();
    let body_lines: usize = parsed.iter().map(|p| p.body.lines().count()).sum();
    println!();
    println!(
        "  bodies: mean {:.0} bytes, {:.1} lines per message",
        body_bytes as f64 / parsed.len() as f64,
        body_lines as f64 / parsed.len() as f64
    );
    println!(
        "  stages (best of 5, µs/msg): mime::parse {:.2} | signals::detect {:.2} | fields::read {:.2}",
        per(parse),
        per(detect),
        per(read)
    );
}

/// A body of 15,000 signature separators, each followed by a line of text, and one labelled
/// item at the very end (360 KB): every separator is a possible signature start, so asking of
/// each whether a label follows it would be quadratic (46 s before it was made one pass).
fn separators(config: &Config) {
    let body = format!("{}【現象】ログインできません\r\n", "------\r\nsome text here\r\n".repeat(15_000));
    let raw = format!(
        "From: Yamada <yamada@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nSubject: separators\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}"
    );
    let t = Instant::now();
    black_box(understand_mail(raw.as_bytes(), config).ok());
    println!();
    println!(
        "  15,000 signature separators before one label ({} KB): understand_mail {:.1} ms",
        raw.len() / 1024,
        t.elapsed().as_secs_f64() * 1e3
    );
}

/// Subjects built to be slow: 1 MB of encoded words that never end, and 1 MB of `Re: ` before
/// the words. Each is understood once (the subject decoded) and its acknowledgment's subject
/// cleaned once; both must take milliseconds, linear in the length.
fn long_subjects(config: &Config) {
    println!();
    println!("  long subjects (one pass each, best of 3)   | subject KB | understand_mail ms | clean_subject ms");
    let unterminated = "=?UTF-8?B?44Ot44Kw44Kk44Oz ".repeat((1 << 20) / 27);
    let replies = format!("{}ログインできません", "Re: ".repeat((1 << 20) / 4));
    let fullwidth = format!("{}ログインできません", "Ｒｅ：".repeat((1 << 20) / 9));
    for (name, subject) in [
        ("unterminated encoded words", &unterminated),
        ("Re: Re: ...", &replies),
        ("Ｒｅ：Ｒｅ：... (full width)", &fullwidth),
    ] {
        let raw = format!(
            "From: Yamada <yamada@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nSubject: {subject}\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nMessage-ID: <long@acme.example.jp>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nログインできません。\r\n"
        );
        let understand = (0..3)
            .map(|_| {
                let t = Instant::now();
                black_box(understand_mail(raw.as_bytes(), config).ok());
                t.elapsed()
            })
            .min()
            .unwrap();
        let clean = (0..3)
            .map(|_| {
                let t = Instant::now();
                black_box(uketsuke::act::compose::clean_subject(subject, config));
                t.elapsed()
            })
            .min()
            .unwrap();
        println!(
            "  {:<42} | {:>10.0} | {:>18.2} | {:>16.2}",
            name,
            subject.len() as f64 / 1024.0,
            understand.as_secs_f64() * 1e3,
            clean.as_secs_f64() * 1e3
        );
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
