//! Session Manager sessions to a workstation, started in the team's account in the caller's
//! name: SSH or RDP forwarded to the caller's machine without an open port (the instance's SSM
//! agent dials out). The session's token is a credential: returned once, never stored or logged.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};

/// The SSM document that forwards one port of the instance.
pub const PORT_FORWARDING_DOCUMENT: &str = "AWS-StartPortForwardingSession";

/// What StartSession answered: what the Session Manager plugin needs to open the stream.
pub struct StartedSession {
    pub session_id: String,
    pub token_value: String,
    pub stream_url: String,
}

#[async_trait::async_trait]
pub trait SessionStarter: Send + Sync {
    /// Starts a session forwarding `remote_port` of `instance_id` to `local_port` of the
    /// caller's machine, as `session_name` in the account of `role`.
    async fn forward_port(
        &self,
        role: &TeamRole,
        session_name: &str,
        instance_id: &str,
        remote_port: u16,
        local_port: u16,
    ) -> Result<StartedSession, ProvisionError>;
    /// The region sessions are started in (the plugin needs it).
    fn region(&self) -> String;
}

pub struct SsmSessionStarter {
    sessions: TeamSessions,
}

impl SsmSessionStarter {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        SsmSessionStarter { sessions: sessions.into() }
    }
}

#[async_trait::async_trait]
impl SessionStarter for SsmSessionStarter {
    #[tracing::instrument(skip(self, role))]
    async fn forward_port(
        &self,
        role: &TeamRole,
        session_name: &str,
        instance_id: &str,
        remote_port: u16,
        local_port: u16,
    ) -> Result<StartedSession, ProvisionError> {
        let ssm = crate::aws::call_metrics::client!(aws_sdk_ssm, &self.sessions.config(role, session_name).await?);
        let started = ssm
            .start_session()
            .target(instance_id)
            .document_name(PORT_FORWARDING_DOCUMENT)
            .parameters("portNumber", vec![remote_port.to_string()])
            .parameters("localPortNumber", vec![local_port.to_string()])
            .reason(format!("Atrium: {session_name}"))
            .send()
            .await
            .map_err(classify)?;
        match (started.session_id, started.token_value, started.stream_url) {
            (Some(session_id), Some(token_value), Some(stream_url)) => Ok(StartedSession { session_id, token_value, stream_url }),
            _ => Err(ProvisionError::Retryable(anyhow::anyhow!("StartSession answered without a session"))),
        }
    }

    fn region(&self) -> String {
        self.sessions.base().region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into())
    }
}
