//! Can this machine make test hosts? Root (namespaces need CAP_SYS_ADMIN,
//! links and rules CAP_NET_ADMIN), `ip` (iproute2) and `nft` (nftables).

use crate::cmd;
use crate::error::Error;

/// Ok when labs can be made here, else the reason and what to do.
pub fn check() -> Result<(), Error> {
    let uid = rustix::process::geteuid();
    if !uid.is_root() {
        return Err(Error::Unavailable(format!(
            "test hosts (network namespaces, veth links, nftables rules) need root, and this process runs as uid {}: \
             run as root, or use --network proxy",
            uid.as_raw()
        )));
    }
    for (program, args, package) in [("ip", ["-V"], "iproute2"), ("nft", ["--version"], "nftables")] {
        if let Err(e) = cmd::run(program, &args, "", cmd::TIMEOUT) {
            return Err(Error::Unavailable(format!(
                "{program} does not run ({e}): install it (apt-get install -y --no-install-recommends {package})"
            )));
        }
    }
    Ok(())
}
