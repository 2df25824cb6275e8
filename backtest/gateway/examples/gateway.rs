//! Run the gateway emulator from the command line (until `tickline gateway` is wired):
//! `cargo run -p tickline-gateway --example gateway -- --port 5000 --seed 7`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "gateway", about = "Tickline IBKR gateway emulator")]
struct Cli {
    #[command(flatten)]
    args: tickline_gateway::GatewayArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tickline_gateway::serve(cli.args).await?;
    Ok(())
}
