//! Who is asking, as far as the network tells: the client's address (through the trusted
//! proxies only) for sign-in throttling and the audit log, and the optional allow-list.

use crate::http::error_page::error_page;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The client's address, put into every request's extensions by [`resolve_client`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Default)]
pub struct ClientNetworks {
    pub trusted_proxies: Arc<[IpNet]>,
    /// Empty: everyone is served.
    pub allowed: Arc<[IpNet]>,
}

impl ClientNetworks {
    /// The client behind `peer`: `X-Forwarded-For` is read from its right end (the entry the
    /// nearest proxy added) for as long as the entries are trusted proxies; the first one that is
    /// not is the client. A peer that is not a trusted proxy is the client, whatever it claims.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let trusted = |address: &IpAddr| self.trusted_proxies.iter().any(|net| net.contains(address));
        let mut client = peer;
        if !trusted(&client) {
            return client;
        }
        for entry in forwarded_for.unwrap_or_default().rsplit(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !trusted(&client) {
                        break;
                    }
                }
                // A malformed entry: trust nothing left of it.
                Err(_) => break,
            }
        }
        client
    }

    fn allows(&self, address: IpAddr) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|net| net.contains(&address))
    }
}

/// Notes the client's address on the request and turns away clients outside
/// `ATRIUM_ALLOWED_CIDRS` (the load balancer's health checks on `/healthz` stay open).
pub async fn resolve_client(State(networks): State<ClientNetworks>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |info| info.0.ip());
    let forwarded_for = request.headers().get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let address = networks.client_address(peer, forwarded_for);
    if request.uri().path() != "/healthz" && !networks.allows(address) {
        tracing::info!(%address, "Refused a client outside the allowed networks");
        return error_page(
            StatusCode::FORBIDDEN,
            "Not available from your network",
            "This portal is only available from your institution's network. Connect through its VPN and try again.",
        );
    }
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn networks(trusted: &[&str]) -> ClientNetworks {
        ClientNetworks { trusted_proxies: trusted.iter().map(|net| net.parse().expect("a network")).collect(), allowed: Arc::new([]) }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let networks = networks(&["10.0.0.0/8"]);
        assert_eq!(networks.client_address(ip("203.0.113.9"), Some("198.51.100.1")), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_from_the_right() {
        let networks = networks(&["10.0.0.0/8"]);
        // The client may prepend anything; the load balancer appended the address it saw.
        let forwarded = Some("1.2.3.4, 198.51.100.7, 10.0.0.5");
        assert_eq!(networks.client_address(ip("10.0.0.2"), forwarded), ip("198.51.100.7"));
        assert_eq!(networks.client_address(ip("10.0.0.2"), None), ip("10.0.0.2"));
    }

    #[test]
    fn a_malformed_entry_stops_the_walk() {
        let networks = networks(&["10.0.0.0/8"]);
        assert_eq!(networks.client_address(ip("10.0.0.2"), Some("198.51.100.7, junk, 10.0.0.9")), ip("10.0.0.9"));
    }

    #[test]
    fn the_allow_list_is_open_when_empty() {
        let mut networks = networks(&[]);
        assert!(networks.allows(ip("203.0.113.9")));
        networks.allowed = Arc::new(["192.0.2.0/24".parse().expect("a network")]);
        assert!(networks.allows(ip("192.0.2.44")));
        assert!(!networks.allows(ip("203.0.113.9")));
    }
}
