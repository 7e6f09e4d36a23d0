//! The log messages the mock writes, as the real product defines them.
//!
//! Templates are the OpenDJ catalogs' own, verbatim (`replication.properties`,
//! `core.properties` at tags 2.6.0, 3.0.0 and 4.0.1; `docs/ds-versions.md`
//! names each line). Each message knows its ordinal, category, the severity
//! each dialect writes it with, and where 2.x worded it otherwise. The table
//! itself is [`table`]; this module renders it.
//!
//! Three dialects, as `TextErrorLogPublisher` prints a line:
//!
//! - **2.x** ([`Dialect::Legacy`], OpenDS, OpenDJ 2.x): `msgID` is composed,
//!   `ordinal | category mask | severity mask` (SYNC 181 SEVERE_ERROR =
//!   14942389); the severity is the property key's prefix (`SEVERE_ERROR`,
//!   `MILD_WARNING` …).
//! - **3.0** ([`Dialect::Dotted`], OpenDJ 3.0.x): `msgID` is the resource
//!   name and the ordinal, `org.opends.messages.replication.181` (OPENDJ-1288,
//!   2014); severities `ERROR`, `WARNING`, `NOTICE`, `INFORMATION` as the
//!   logger call decides.
//! - **4.x** ([`Dialect::Modern`], OpenDJ 4.0 on, ForgeRock DS 5 to 7.x):
//!   `msgID` is the bare ordinal (OPENDJ-2725, 2016); severities as in 3.0.
//!
//! A raw message (`LocalizableMessage.raw`, [`table::RAW_ERROR`]) has no
//! resource and ordinal −1: `msgID=null.-1` in 3.0, `msgID=-1` from 4.0;
//! 2.x logs it as USER_DEFINED INFORMATION, which its default configuration
//! does not write.
//!
//! Which file a line lands in follows each dialect's default `config.ldif`:
//! the errors log takes (2.x) severe-warning, severe-error, fatal-error and
//! notice, (3+) warning, error and notice; the replication log takes SYNC only,
//! at (2.x) INFO, MILD_ERROR, MILD_WARNING, NOTICE or (3+) INFO, ERROR,
//! WARNING, NOTICE.

use std::fmt::Display;

mod table;
pub use table::*;

/// How a server version writes its logs (and, in this family, how it
/// behaves where the versions differ: see `docs/ds-versions.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialect {
    /// OpenDS / OpenDJ 2.x: composed msgIDs, 2.x severities.
    Legacy,
    /// OpenDJ 3.0.x: dotted msgIDs (`org.opends.messages.replication.181`), five severities.
    Dotted,
    /// OpenDJ 4.x, ForgeRock DS 5 to 7.x: ordinal msgIDs, five severities.
    Modern,
}

impl Dialect {
    /// Every dialect, oldest first.
    pub const ALL: [Dialect; 3] = [Dialect::Legacy, Dialect::Dotted, Dialect::Modern];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Core,
    Sync,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Core => "CORE",
            Category::Sync => "SYNC",
        }
    }

    fn mask(self) -> u32 {
        match self {
            Category::Core => 0x000000,
            Category::Sync => 0xE00000,
        }
    }

    /// The message file (resource) the 3.0 dialect names.
    fn resource(self) -> &'static str {
        match self {
            Category::Core => "org.opends.messages.core",
            Category::Sync => "org.opends.messages.replication",
        }
    }
}

/// Severity as the 3.x+ dialects print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sev {
    Information,
    Notice,
    Warning,
    Error,
}

/// Severity as the 2.x dialect prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sev2 {
    Information,
    MildWarning,
    SevereWarning,
    MildError,
    SevereError,
    Notice,
}

impl Sev {
    pub fn name(self) -> &'static str {
        match self {
            Sev::Information => "INFORMATION",
            Sev::Notice => "NOTICE",
            Sev::Warning => "WARNING",
            Sev::Error => "ERROR",
        }
    }
}

impl Sev2 {
    pub fn name(self) -> &'static str {
        match self {
            Sev2::Information => "INFORMATION",
            Sev2::MildWarning => "MILD_WARNING",
            Sev2::SevereWarning => "SEVERE_WARNING",
            Sev2::MildError => "MILD_ERROR",
            Sev2::SevereError => "SEVERE_ERROR",
            Sev2::Notice => "NOTICE",
        }
    }

    fn mask(self) -> u32 {
        match self {
            Sev2::Information => 0x00000,
            Sev2::MildWarning => 0x10000,
            Sev2::SevereWarning => 0x20000,
            Sev2::MildError => 0x30000,
            Sev2::SevereError => 0x40000,
            Sev2::Notice => 0x70000,
        }
    }
}

/// One catalog message.
#[derive(Debug)]
pub struct MsgDef {
    /// The ordinal (−1 stands for a raw message: see [`MsgDef::raw`]).
    pub ordinal: u32,
    /// The OpenDJ 3+ property key, without the ordinal suffix.
    pub key: &'static str,
    pub category: Category,
    /// The severity the 3.x+ logger call gives it.
    pub sev: Sev,
    /// The 2.x key prefix; `None`: 2.x's default configuration writes it nowhere.
    pub sev2: Option<Sev2>,
    /// The 3.0+ template.
    pub template: &'static str,
    /// The 2.x template, where it is worded otherwise.
    pub template2: Option<&'static str>,
    /// The oldest dialect whose catalog has it.
    pub since: Dialect,
    /// A raw message: no resource, ordinal −1, the text is the one argument.
    pub raw: bool,
}

/// A rendered message ready for a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub category: &'static str,
    pub severity: &'static str,
    /// `14942389`, `org.opends.messages.replication.181`, `181`, `-1`.
    pub msg_id: String,
    pub text: String,
    pub to_errors: bool,
    pub to_replication: bool,
}

impl MsgDef {
    /// Does this dialect's catalog have the message?
    pub fn exists_in(&self, dialect: Dialect) -> bool {
        dialect >= self.since
    }

    /// The msgID this dialect prints.
    pub fn msg_id(&self, dialect: Dialect) -> String {
        match (dialect, self.raw) {
            (Dialect::Dotted, true) => "null.-1".to_owned(),
            (_, true) => "-1".to_owned(),
            (Dialect::Legacy, false) => match self.sev2 {
                Some(sev2) => (self.ordinal | self.category.mask() | sev2.mask()).to_string(),
                None => self.ordinal.to_string(),
            },
            (Dialect::Dotted, false) => format!("{}.{}", self.category.resource(), self.ordinal),
            (Dialect::Modern, false) => self.ordinal.to_string(),
        }
    }

    /// The template this dialect's catalog words it with.
    pub fn template(&self, dialect: Dialect) -> &'static str {
        match (dialect, self.template2) {
            (Dialect::Legacy, Some(t)) => t,
            _ => self.template,
        }
    }

    /// Fills the dialect's template's `%s`/`%d` placeholders in order.
    pub fn fill(&self, dialect: Dialect, args: &[&dyn Display]) -> String {
        let template = self.template(dialect);
        let mut out = String::with_capacity(template.len() + 32);
        let mut args = args.iter();
        let mut rest = template;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let spec = rest[at + 1..].chars().next();
            match spec {
                Some('s') | Some('d') => {
                    if let Some(arg) = args.next() {
                        out.push_str(&arg.to_string());
                    }
                    rest = &rest[at + 2..];
                }
                _ => {
                    out.push('%');
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Renders the message in a dialect, with the files it lands in.
    ///
    /// Returns `None` when the dialect's catalog does not have the message
    /// or its default configuration writes it nowhere.
    pub fn render(&self, dialect: Dialect, args: &[&dyn Display]) -> Option<Rendered> {
        if !self.exists_in(dialect) {
            return None;
        }
        let (severity, to_errors, to_replication) = match dialect {
            Dialect::Modern | Dialect::Dotted => {
                let to_errors = matches!(self.sev, Sev::Warning | Sev::Error | Sev::Notice);
                (self.sev.name(), to_errors, self.category == Category::Sync)
            }
            Dialect::Legacy => {
                let sev2 = self.sev2?;
                let to_errors = matches!(sev2, Sev2::SevereWarning | Sev2::SevereError | Sev2::Notice);
                let to_repl = self.category == Category::Sync
                    && matches!(sev2, Sev2::Information | Sev2::MildError | Sev2::MildWarning | Sev2::Notice);
                (sev2.name(), to_errors, to_repl)
            }
        };
        Some(Rendered {
            category: self.category.name(),
            severity,
            msg_id: self.msg_id(dialect),
            text: self.fill(dialect, args),
            to_errors,
            to_replication,
        })
    }
}

#[cfg(test)]
mod tests;
