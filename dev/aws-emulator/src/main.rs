use clap::Parser;
use std::time::Duration;

/// Dev/test only: Service Catalog provisioning and SageMaker presigned URLs over the AWS wire protocol.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1 (0: any free one; the chosen port is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// moto, where stacks are created.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    moto_endpoint: String,
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// How long each provisioning step stays IN_PROGRESS, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    step_delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let address = format!("http://{}", listener.local_addr()?);
    let emulator = aws_emulator::Emulator::new(args.moto_endpoint, address.clone(), Duration::from_millis(args.step_delay_ms), args.region);
    println!("{address}");
    axum::serve(listener, emulator.router()).await?;
    Ok(())
}
