//! Where a request comes from: the client's address as Cloudflare reports it
//! (`CF-Connecting-IP`) and the network it counts under in throttles.
//!
//! `CF-Connecting-IP` is only trustworthy behind Cloudflare, which sets it and drops any value
//! the client sent; a Worker reached any other way (`wrangler dev`, a test) takes the header as
//! sent, which is how the tests play many addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The network a client address counts under: an IPv4 address as it is, an IPv6 address by
/// its /64 (one subscriber usually holds a whole /64), anything else as one unknown network.
pub(crate) fn network(ip: Option<&str>) -> String {
    let Some(ip) = ip.map(str::trim) else {
        return "unknown".to_owned();
    };
    if let Ok(v6) = ip.parse::<Ipv6Addr>() {
        if let Some(v4) = v6.to_ipv4_mapped() {
            return v4.to_string();
        }
        let s = v6.segments();
        return format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]);
    }
    match ip.parse::<Ipv4Addr>() {
        Ok(v4) => v4.to_string(),
        Err(_) => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(network(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(
            network(Some("2001:db8:1:2:aaaa::1")),
            network(Some("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            network(Some("2001:db8:1:2::1")),
            network(Some("2001:db8:1:3::1"))
        );
        assert_eq!(network(Some("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(network(None), "unknown");
        assert_eq!(network(Some("not an address")), "unknown");
    }
}
