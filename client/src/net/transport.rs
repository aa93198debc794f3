//! Opening a WebSocket to a relay: `ws://` over TCP, or `wss://` over rustls trusting the system's certificate
//! authorities plus, for a self-signed relay, a CA file the user names.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use huddle_shared::limits::MAX_FRAME_BYTES;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Any byte stream a WebSocket can run over (TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Ws = WebSocketStream<Box<dyn Io>>;

/// Why a connection could not be opened, in words for the person waiting.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the relay address must start with ws:// or wss://, like wss://chat.example.org (got {0:?})")]
    BadUrl(String),
    #[error("cannot reach {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("the relay at {host} did not answer in time")]
    Timeout { host: String },
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("the secure connection to {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("{host} does not speak WebSocket: {reason}")]
    Handshake { host: String, reason: String },
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The parts of a relay URL we need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayUrl {
    pub secure: bool,
    pub host: String,
    pub port: u16,
    pub url: String,
}

impl RelayUrl {
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        let bad = || ConnectError::BadUrl(url.to_owned());
        let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(bad());
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(bad());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                (host.trim_matches(['[', ']']).to_owned(), port.parse().map_err(|_| bad())?)
            }
            _ => (authority.trim_matches(['[', ']']).to_owned(), if secure { 443 } else { 80 }),
        };
        Ok(Self { secure, host, port, url: url.to_owned() })
    }
}

/// The largest message this client reads from a relay, in bytes.
///
/// Not the protocol's `max_frame_bytes` (64 KiB, announced in `hello`): that bounds what a relay *accepts*. What a
/// relay sends is larger by design — a `history` page of 200 maximal messages is about 3.5 MB, a full friend list
/// with notes and profiles about 7 MB — and the protocol asks clients to accept at least 4 MiB. Above this a relay
/// is misbehaving: tungstenite reads a frame's length from its header and refuses it before reading the payload, so
/// a larger message costs neither the memory nor the time to read it.
pub const MAX_RELAY_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

const _: () = assert!(
    MAX_RELAY_MESSAGE_BYTES >= 4 * 1024 * 1024 && MAX_RELAY_MESSAGE_BYTES > MAX_FRAME_BYTES,
    "the protocol asks clients to accept relay messages of at least 4 MiB"
);

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_RELAY_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_RELAY_MESSAGE_BYTES))
}

pub async fn connect(url: &str, ca_file: Option<&Path>) -> Result<Ws, ConnectError> {
    let relay = RelayUrl::parse(url)?;
    let host = relay.host.clone();
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((relay.host.as_str(), relay.port)))
        .await
        .map_err(|_| ConnectError::Timeout { host: host.clone() })?
        .map_err(|e| ConnectError::Unreachable { host: host.clone(), reason: e.to_string() })?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if relay.secure {
        let config = tls_config(ca_file)?;
        let name = ServerName::try_from(relay.host.clone())
            .map_err(|e| ConnectError::Tls { host: host.clone(), reason: e.to_string() })?;
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await
        .map_err(|_| ConnectError::Timeout { host: host.clone() })?
        .map_err(|e| ConnectError::Tls { host: host.clone(), reason: e.to_string() })?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (ws, _) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::client_async_with_config(relay.url.as_str(), stream, Some(ws_config())),
    )
    .await
    .map_err(|_| ConnectError::Timeout { host: host.clone() })?
    .map_err(|e| ConnectError::Handshake { host, reason: e.to_string() })?;
    Ok(ws)
}

fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, ConnectError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A broken system certificate is not our problem to report; skip it.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let ca_error = |reason: String| ConnectError::CaFile { path: path.display().to_string(), reason };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("it holds no certificate".to_owned()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls { host: String::new(), reason: e.to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relay_urls() {
        let u = RelayUrl::parse("wss://chat.example.org").unwrap();
        assert_eq!((u.secure, u.host.as_str(), u.port), (true, "chat.example.org", 443));
        let u = RelayUrl::parse("ws://127.0.0.1:7300/").unwrap();
        assert_eq!((u.secure, u.host.as_str(), u.port), (false, "127.0.0.1", 7300));
        let u = RelayUrl::parse("ws://[::1]:7300").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 7300));
        assert!(RelayUrl::parse("http://x").is_err());
        assert!(RelayUrl::parse("ws://").is_err());
        assert!(RelayUrl::parse("ws://host:notaport").is_err());
    }
}
