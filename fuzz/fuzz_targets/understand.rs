//! Fuzz target `understand`: arbitrary bytes through the mail understanding entry point, and,
//! when the bytes are a JSON form submission, through the form entry point too. Neither may
//! panic, whatever the input; `Err` from `understand_mail` is a fine answer.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use uketsuke::config::{Config, Overrides};
use uketsuke::understand::{FormSubmission, understand_form, understand_mail};

static CONFIG: OnceLock<Config> = OnceLock::new();

fn config() -> &'static Config {
    CONFIG.get_or_init(|| match Config::load(None, &Overrides::default()) {
        Ok(config) => config,
        Err(problems) => panic!("the embedded configuration does not load: {problems:?}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let config = config();
    let _ = understand_mail(data, config);
    if let Ok(form) = serde_json::from_slice::<FormSubmission>(data) {
        let _ = understand_form(&form, config);
    }
});
