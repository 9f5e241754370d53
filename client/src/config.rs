//! Where the client finds its chain, store, account, contract and keys.
//!
//! Each setting comes from the first of these that has it:
//!
//! 1. a command-line flag (`--chain`, `--store`, `--account`, `--contract`, `--keys`);
//! 2. an environment variable (`BLINDFOLD_CHAIN`, `BLINDFOLD_STORE`,
//!    `BLINDFOLD_ACCOUNT`, `BLINDFOLD_CONTRACT`, `BLINDFOLD_KEYS`; empty
//!    counts as unset);
//! 3. the config file: `--config PATH`, or `./blindfold.toml` when that
//!    exists. TOML, or JSON when the name ends in `.json`, with the same
//!    keys (`chain = "embedded:demo.chain"`, `store = "blobs"`, ...);
//! 4. the defaults below ([`DEFAULT_CHAIN`], [`DEFAULT_STORE`], [`DEFAULT_KEYS`];
//!    no default account or contract).
//!
//! [`resolve`] does exactly that, with the environment passed in as a
//! function so tests do not touch the process environment.
//! [`record_contract`] writes a deployed contract's address back to the
//! config file, keeping whatever else the file says.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// The config file read when `--config` is not given (if it exists).
pub const DEFAULT_CONFIG: &str = "blindfold.toml";
/// The chain when nothing else names one: the embedded chain persisted in
/// `./blindfold.chain`, shared by every command run in this directory.
pub const DEFAULT_CHAIN: &str = "embedded:blindfold.chain";
/// The blob store when nothing else names one: a local directory.
pub const DEFAULT_STORE: &str = "blindfold-blobs";
/// The data owner's key directory when nothing else names one.
pub const DEFAULT_KEYS: &str = "blindfold-keys";

/// The settings one source gives; `None` = not set there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Chain spec: `embedded`, `embedded:<state file>` or `ws://host:port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Blob store spec: a directory, `file://…`, `s3://bucket/prefix` or `memory://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Account: a dev seed (`//Alice`) or a file holding a secret seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The marketplace contract's address (64 hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The data owner's key directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<String>,
}

impl Settings {
    /// The settings of the `BLINDFOLD_*` variables, read through `env`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        Settings {
            chain: var("BLINDFOLD_CHAIN"),
            store: var("BLINDFOLD_STORE"),
            account: var("BLINDFOLD_ACCOUNT"),
            contract: var("BLINDFOLD_CONTRACT"),
            keys: var("BLINDFOLD_KEYS"),
        }
    }

    /// Reads a config file (TOML, or JSON for `*.json`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ClientError::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        let bad = |reason: String| {
            ClientError::Config(format!(
                "config file {} is not valid: {reason}",
                path.display()
            ))
        };
        if is_json(path) {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
        } else {
            toml::from_str(&text).map_err(|e| bad(one_line(&e.to_string())))
        }
    }

    /// Each setting of `self`, or else of `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            chain: self.chain.or(lower.chain),
            store: self.store.or(lower.store),
            account: self.account.or(lower.account),
            contract: self.contract.or(lower.contract),
            keys: self.keys.or(lower.keys),
        }
    }
}

/// The settings a command runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Chain spec.
    pub chain: String,
    /// Blob store spec.
    pub store: String,
    /// Account spec, if any source named one.
    pub account: Option<String>,
    /// Contract address text, if any source named one.
    pub contract: Option<String>,
    /// Key directory.
    pub keys: PathBuf,
    /// The config file that was read, or that `deploy` writes to.
    pub file: PathBuf,
}

impl Config {
    /// The account, or a clear error saying how to name one.
    pub fn account(&self) -> Result<&str> {
        self.account.as_deref().ok_or_else(|| {
            ClientError::Config(
                "no account: pass --account //Alice (a dev seed or a key file), \
                 set BLINDFOLD_ACCOUNT, or add account = \"...\" to the config file"
                    .into(),
            )
        })
    }

    /// The contract address, or a clear error saying how to get one.
    pub fn contract(&self) -> Result<[u8; 32]> {
        let text = self.contract.as_deref().ok_or_else(|| {
            ClientError::Config(format!(
                "no marketplace contract: run `blindfold deploy` (it records the address in {}), \
                 pass --contract 0x..., or set BLINDFOLD_CONTRACT",
                self.file.display()
            ))
        })?;
        crate::units::parse_hex32(text, "contract address")
    }
}

/// Combines the flags, the environment (read through `env`) and the config
/// file into the settings a command runs with. `config` is the `--config`
/// flag: that file must exist; without it `./blindfold.toml` is read if present.
pub fn resolve(
    flags: Settings,
    config: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config> {
    let (file, from_file) = match config {
        Some(path) => (path.to_path_buf(), Settings::from_file(path)?),
        None => {
            let path = PathBuf::from(DEFAULT_CONFIG);
            let settings = if path.exists() {
                Settings::from_file(&path)?
            } else {
                Settings::default()
            };
            (path, settings)
        }
    };
    let s = flags.or(Settings::from_env(env)).or(from_file);
    Ok(Config {
        chain: s.chain.unwrap_or_else(|| DEFAULT_CHAIN.into()),
        store: s.store.unwrap_or_else(|| DEFAULT_STORE.into()),
        account: s.account,
        contract: s.contract,
        keys: PathBuf::from(s.keys.unwrap_or_else(|| DEFAULT_KEYS.into())),
        file,
    })
}

/// Records `contract` (and, where the file does not name them yet, the
/// `chain` and `store` it was deployed with) in the config file `path`,
/// creating it if needed and keeping every other key.
pub fn record_contract(path: &Path, contract: &str, chain: &str, store: &str) -> Result<()> {
    let mut settings = if path.exists() {
        Settings::from_file(path)?
    } else {
        Settings::default()
    };
    settings.contract = Some(contract.to_string());
    settings.chain.get_or_insert_with(|| chain.to_string());
    settings.store.get_or_insert_with(|| store.to_string());
    let text = if is_json(path) {
        serde_json::to_string_pretty(&settings).unwrap_or_default() + "\n"
    } else {
        toml::to_string(&settings).map_err(|e| {
            ClientError::Config(format!("cannot write config file {}: {e}", path.display()))
        })?
    };
    std::fs::write(path, text).map_err(|e| ClientError::io("writing", path, e))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// TOML errors span several lines (a source excerpt); keep the first.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    match lines.next_back() {
        Some(last) if last != first => format!("{first} {last}"),
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cfg.toml");
        std::fs::write(
            &file,
            "chain = \"embedded:file.chain\"\nstore = \"file-blobs\"\naccount = \"//Charlie\"\ncontract = \"0xaa\"\n",
        )
        .unwrap();
        let env = env_of(&[
            ("BLINDFOLD_STORE", "env-blobs"),
            ("BLINDFOLD_ACCOUNT", "//Bob"),
            ("BLINDFOLD_CONTRACT", ""),
        ]);
        let flags = Settings {
            account: Some("//Alice".into()),
            ..Default::default()
        };
        let c = resolve(flags, Some(&file), env).unwrap();
        assert_eq!(c.account.as_deref(), Some("//Alice"), "flag wins");
        assert_eq!(c.store, "env-blobs", "env beats file");
        assert_eq!(c.chain, "embedded:file.chain", "file beats default");
        assert_eq!(c.contract.as_deref(), Some("0xaa"), "empty env is unset");
        assert_eq!(c.keys, PathBuf::from(DEFAULT_KEYS), "default");
        assert_eq!(c.file, file);
    }

    #[test]
    fn json_config_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("cfg.json");
        std::fs::write(&json, r#"{"chain": "ws://127.0.0.1:9944", "keys": "k"}"#).unwrap();
        let c = resolve(Settings::default(), Some(&json), env_of(&[])).unwrap();
        assert_eq!(c.chain, "ws://127.0.0.1:9944");
        assert_eq!(c.keys, PathBuf::from("k"));

        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "chian = \"x\"\n").unwrap();
        let err = resolve(Settings::default(), Some(&typo), env_of(&[])).unwrap_err();
        assert!(err.is_usage());
        assert!(err.to_string().contains("unknown field"), "{err}");
        assert!(!err.to_string().contains('\n'), "one line: {err}");

        let missing = dir.path().join("missing.toml");
        let err = resolve(Settings::default(), Some(&missing), env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("cannot read config file"), "{err}");
    }

    #[test]
    fn missing_account_and_contract_say_what_to_do() {
        let c = resolve(Settings::default(), None, env_of(&[])).unwrap();
        assert!(c.account().unwrap_err().to_string().contains("--account"));
        assert!(c
            .contract()
            .unwrap_err()
            .to_string()
            .contains("blindfold deploy"));
    }

    #[test]
    fn deploy_records_the_contract_keeping_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("blindfold.toml");
        std::fs::write(
            &file,
            "account = \"//Dave\"\nchain = \"embedded:a.chain\"\n",
        )
        .unwrap();
        record_contract(&file, "0x01", "embedded:b.chain", "blobs").unwrap();
        let s = Settings::from_file(&file).unwrap();
        assert_eq!(s.contract.as_deref(), Some("0x01"));
        assert_eq!(s.account.as_deref(), Some("//Dave"));
        assert_eq!(s.chain.as_deref(), Some("embedded:a.chain"), "kept");
        assert_eq!(s.store.as_deref(), Some("blobs"), "added");

        let json = dir.path().join("c.json");
        record_contract(&json, "0x02", "embedded", "blobs").unwrap();
        assert_eq!(
            Settings::from_file(&json).unwrap().contract.as_deref(),
            Some("0x02")
        );
    }
}
