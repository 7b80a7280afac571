//! Connecting: the SageMaker user profile of a user, and the commands of a Session Manager session.

use super::*;

/// A SageMaker user profile name for a username (letters, digits and inner hyphens, at most
/// 63): the username itself when it is one, else a readable part of it and a hash of all of it,
/// so that two users never share a profile (`j.smith@x.org` and `j_smith@x.org` both read
/// `j-smith-x-org`).
pub(super) fn studio_profile_name(username: &str) -> String {
    let usable = |name: &str| {
        (1..=63).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    };
    if usable(username) {
        return username.to_owned();
    }
    let readable: String = username.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
    let readable = readable.trim_matches('-');
    let hash = hex::encode(sha2::Sha256::digest(username.as_bytes()));
    if readable.is_empty() { format!("u-{}", &hash[..20]) } else { format!("{readable}-{}", &hash[..12]) }
}

/// The commands that use a started session: the plugin with its token, the AWS CLI's
/// equivalent, and the client to point at the forwarded port.
pub(super) fn shell_session(started: &StartedSession, instance_id: &str, protocol: RemoteProtocol, region: &str) -> ShellSession {
    let (remote_port, local_port) = protocol.ports();
    let response =
        serde_json::json!({ "SessionId": started.session_id, "TokenValue": started.token_value, "StreamUrl": started.stream_url });
    let parameters = serde_json::json!({ "portNumber": [remote_port.to_string()], "localPortNumber": [local_port.to_string()] });
    let request = serde_json::json!({ "Target": instance_id, "DocumentName": PORT_FORWARDING_DOCUMENT, "Parameters": parameters });
    let plugin_arguments = vec![
        response.to_string(),
        region.to_owned(),
        "StartSession".into(),
        String::new(),
        request.to_string(),
        format!("https://ssm.{region}.amazonaws.com"),
    ];
    ShellSession {
        session_id: started.session_id.clone(),
        instance_id: instance_id.to_owned(),
        protocol,
        local_port,
        // The JSON has no single quotes (ids, a URL, a token of base64 characters).
        plugin_command: format!(
            "session-manager-plugin {}",
            plugin_arguments.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" ")
        ),
        plugin_arguments,
        aws_cli_command: format!(
            "aws ssm start-session --region {region} --target {instance_id} --document-name {PORT_FORWARDING_DOCUMENT} --parameters '{parameters}'"
        ),
        client_command: match protocol {
            RemoteProtocol::Ssh => format!("ssh -p {local_port} ec2-user@localhost"),
            RemoteProtocol::Rdp => format!("Point your RDP client at localhost:{local_port}"),
        },
    }
}

#[cfg(test)]
mod studio_tests {
    use super::studio_profile_name;

    #[test]
    fn every_user_gets_a_studio_profile_of_their_own() {
        assert_eq!(studio_profile_name("ada"), "ada");
        let names: Vec<String> =
            ["j.smith@x.org", "j_smith@x.org", "j-smith@x.org", "zoë", "zo", "___"].iter().map(|u| studio_profile_name(u)).collect();
        for (i, a) in names.iter().enumerate() {
            assert!(a.len() <= 63 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !a.starts_with('-'), "{a}");
            assert!(names.iter().skip(i + 1).all(|b| a != b), "{names:?}");
        }
        assert!(studio_profile_name("j.smith@x.org").starts_with("j-smith-x-org-"));
    }
}
