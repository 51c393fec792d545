//! Understanding raw mail end to end through the public entry point: charsets as real
//! clients send them, huge and hostile input.

use std::sync::OnceLock;
use uketsuke::config::{Config, Overrides};
use uketsuke::understand::{Signal, understand_mail};

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config::load(None, &Overrides::default()).expect("shipped config"))
}

fn mail(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("From: Yamada <yamada@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nMessage-ID: <t@acme.example.jp>\r\n{headers}\r\n").into_bytes();
    m.extend_from_slice(body);
    m
}

#[test]
fn a_20_mb_attachment_is_read_without_trouble() {
    let mut body = b"--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\xe3\x83\xad\xe3\x82\xb0\xe3\x82\x92\xe6\xb7\xbb\xe4\xbb\x98\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x99\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"dump.bin\"\r\n\r\n".to_vec();
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while body.len() < 20 * 1024 * 1024 {
        body.extend_from_slice(line);
    }
    body.extend_from_slice(b"--b--\r\n");
    let raw = mail("Subject: dump\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n", &body);
    let report = understand_mail(&raw, config()).expect("readable");
    assert_eq!(report.body.trim(), "ログを添付します");
    assert_eq!(report.attachments.len(), 1);
    assert_eq!(report.attachments[0].filename.as_deref(), Some("dump.bin"));
    assert!(report.attachments[0].size > 14 * 1024 * 1024);
}

#[test]
fn iso2022jp_body_without_any_charset_label() {
    // "障害です" in ISO-2022-JP, no Content-Type at all (as Outlook has been seen to send).
    let raw = mail("Subject: test\r\n", b"\x1b$B>c32$G$9\x1b(B\r\n");
    let report = understand_mail(&raw, config()).expect("readable");
    assert_eq!(report.body.trim(), "障害です");
    assert!(report.warnings.iter().any(|w| w.contains("ISO-2022-JP")), "{:?}", report.warnings);
}

#[test]
fn shift_jis_subject_sent_raw() {
    let (subject, _, _) = encoding_rs::SHIFT_JIS.encode("請求書の再発行");
    let mut headers = b"Subject: ".to_vec();
    headers.extend_from_slice(&subject);
    let mut raw = b"From: a@b.example\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\n".to_vec();
    raw.extend_from_slice(&headers);
    raw.extend_from_slice(b"\r\n\r\nbody\r\n");
    let report = understand_mail(&raw, config()).expect("readable");
    assert_eq!(report.subject, "請求書の再発行");
}

#[test]
fn auto_submitted_no_is_a_human_and_auto_replied_is_not() {
    let human = understand_mail(&mail("Subject: x\r\nAuto-Submitted: no\r\n", b"hello\r\n"), config()).unwrap();
    assert!(human.signals.is_empty());
    let machine =
        understand_mail(&mail("Subject: x\r\nAuto-Submitted: auto-replied (vacation)\r\n", b"away\r\n"), config())
            .unwrap();
    assert_eq!(machine.signals, vec![Signal::AutoSubmitted]);
}

#[test]
fn hostile_structures_do_not_panic() {
    let mut deep = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..2000 {
        deep.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
    }
    let cases: Vec<Vec<u8>> = vec![
        mail(&deep, b""),
        mail("Subject: =?UTF-8?B?!!!?= =?X-UNKNOWN?Q?abc?=\r\n", b"x"),
        mail(
            "Subject: x\r\nContent-Type: text/plain; charset=\"\"\r\nContent-Transfer-Encoding: base64\r\n",
            b"!!!not base64!!!",
        ),
        mail("Subject: x\r\nContent-Type: text/html\r\n", "<".repeat(100_000).as_bytes()),
        mail("Subject: x\r\n", &vec![b'a'; 1_000_000]),
        mail("Subject: x\r\n", "【".repeat(50_000).as_bytes()),
        mail("Subject: x\r\n", "再現手順:\n".repeat(20_000).as_bytes()),
        b"From:\r\n\r\n".to_vec(),
        b"Subject: \x1b$B\x1b$B\x1b\r\n\r\n\x1b$B".to_vec(),
    ];
    for raw in cases {
        let _ = understand_mail(&raw, config());
    }
}

#[test]
fn a_japanese_label_on_bytes_of_another_charset_is_decoded_by_the_bytes() {
    // UTF-8 bytes labelled ISO-2022-JP, and Shift_JIS bytes labelled EUC-JP.
    let utf8 = mail(
        "Subject: x\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 8bit\r\n",
        "障害報告です\r\n".as_bytes(),
    );
    assert_eq!(understand_mail(&utf8, config()).expect("readable").body.trim(), "障害報告です");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("ログインできません。お世話になっております。");
    let raw =
        mail("Subject: x\r\nContent-Type: text/plain; charset=EUC-JP\r\nContent-Transfer-Encoding: 8bit\r\n", &sjis);
    assert_eq!(
        understand_mail(&raw, config()).expect("readable").body.trim(),
        "ログインできません。お世話になっております。"
    );
}
