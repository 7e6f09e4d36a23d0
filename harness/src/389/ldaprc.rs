//! LDAP result codes the flavor uses and their texts as OpenLDAP's
//! `ldap_err2string` prints them (what 389-DS writes after `LDAP error:`
//! and in the JSON twin's `ldap_rc_text`), and the system-error texts of
//! the `slapi_ldap_bind` lines.

pub const SUCCESS: i32 = 0;
pub const OPERATIONS_ERROR: i32 = 1;
pub const PROTOCOL_ERROR: i32 = 2;
pub const NO_SUCH_OBJECT: i32 = 32;
pub const INAPPROPRIATE_AUTH: i32 = 48;
pub const INVALID_CREDENTIALS: i32 = 49;
pub const INSUFFICIENT_ACCESS: i32 = 50;
pub const BUSY: i32 = 51;
pub const UNAVAILABLE: i32 = 52;
pub const UNWILLING_TO_PERFORM: i32 = 53;
pub const ALREADY_EXISTS: i32 = 68;
pub const OTHER: i32 = 80;
/// `LDAP_SERVER_DOWN`.
pub const SERVER_DOWN: i32 = -1;
pub const LOCAL_ERROR: i32 = -2;
/// `LDAP_TIMEOUT`.
pub const TIMEOUT: i32 = -5;

/// `ldap_err2string` (OpenLDAP 2.5).
pub fn text(rc: i32) -> &'static str {
    match rc {
        SUCCESS => "Success",
        OPERATIONS_ERROR => "Operations error",
        PROTOCOL_ERROR => "Protocol error",
        3 => "Time limit exceeded",
        4 => "Size limit exceeded",
        NO_SUCH_OBJECT => "No such object",
        INAPPROPRIATE_AUTH => "Inappropriate authentication",
        INVALID_CREDENTIALS => "Invalid credentials",
        INSUFFICIENT_ACCESS => "Insufficient access",
        BUSY => "Server is busy",
        UNAVAILABLE => "Server is unavailable",
        UNWILLING_TO_PERFORM => "Server is unwilling to perform",
        ALREADY_EXISTS => "Already exists",
        OTHER => "Other (e.g., implementation specific) error",
        SERVER_DOWN => "Can't contact LDAP server",
        LOCAL_ERROR => "Local error",
        -3 => "Encoding error",
        -4 => "Decoding error",
        TIMEOUT => "Timed out",
        _ => "Unknown error",
    }
}

/// The replication codes a replayed update's result can make the
/// supplier retry later (`ignore_error_and_keep_going` says stop).
pub fn stops_the_session(rc: i32) -> bool {
    !matches!(
        rc,
        SUCCESS | 16 | 17 | 19 | 20 | 21 | NO_SUCH_OBJECT | 34 | 35 | INSUFFICIENT_ACCESS | 64
            ..=67 | ALREADY_EXISTS | 69
    )
}

/// errno values of the bind lines and their `strerror` texts.
pub mod errno {
    /// Connection refused (nothing listens).
    pub const ECONNREFUSED: i32 = 111;
    /// Transport endpoint is not connected (what 2.3.1 prints for a refused connect).
    pub const ENOTCONN: i32 = 107;
    /// Connection timed out (SYNs unanswered).
    pub const ETIMEDOUT: i32 = 110;

    pub fn text(e: i32) -> &'static str {
        match e {
            ECONNREFUSED => "Connection refused",
            ENOTCONN => "Transport endpoint is not connected",
            ETIMEDOUT => "Connection timed out",
            104 => "Connection reset by peer",
            _ => "Unknown error",
        }
    }
}

/// The NSPR error the bind lines print beside errno (`-5950 (File not found.)`,
/// as measured on 2.3.1 for a consumer that is down).
pub const NSPR_ERROR: (i32, &str) = (-5950, "File not found.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_openldaps() {
        assert_eq!(text(SERVER_DOWN), "Can't contact LDAP server");
        assert_eq!(text(TIMEOUT), "Timed out");
        assert_eq!(text(INVALID_CREDENTIALS), "Invalid credentials");
        assert!(stops_the_session(BUSY) && stops_the_session(UNWILLING_TO_PERFORM));
        assert!(!stops_the_session(ALREADY_EXISTS) && !stops_the_session(NO_SUCH_OBJECT));
        assert_eq!(errno::text(errno::ENOTCONN), "Transport endpoint is not connected");
    }
}
