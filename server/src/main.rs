//! The `peerlog` binary: parses the command line, sets up logging, and hands over to the library.

use anyhow::Context as _;
use clap::Parser as _;
use peerlog_server::cli::{Cli, Command, ServeArgs};
use peerlog_server::config::{Config, Overrides};
use peerlog_server::serve::{FIRST_ADMIN, Relay};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PEERLOG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve(args),
        other => {
            peerlog_server::cli::admin::run(other, &mut std::io::stdout().lock())?;
            Ok(())
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(
        args.config.as_deref(),
        |k| std::env::var(k).ok(),
        Overrides {
            listen: args.listen,
            data: args.data,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
        },
    )
    .context("reading the configuration")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let relay = Relay::start(config, args.demo)
            .await
            .context("starting the relay")?;
        let listener = relay.bind().await.context("binding the listen address")?;
        let addr = listener
            .local_addr()
            .context("reading the listen address")?;
        print_banner(&relay, addr);
        relay
            .serve(listener, shutdown_signal())
            .await
            .context("serving")
    })
}

fn print_banner(relay: &Relay, addr: std::net::SocketAddr) {
    let started = &relay.started;
    let scheme = if relay.state.config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    println!("peerlog relay listening on {scheme}://{addr}");
    if let Some(code) = &started.admin_setup_code {
        println!();
        println!("New organisation created. One-time admin set-up code (valid 24 hours):");
        println!("    {code}");
        println!("Set up the admin's dashboard sign-in at {scheme}://{addr}/setup (user name");
        println!(
            "'{FIRST_ADMIN}', this code, a password, then an authenticator app), or enrol the"
        );
        println!(
            "admin's device with it (POST /api/v1/enrol). A new code: peerlog admin enrol-code --user {FIRST_ADMIN}"
        );
    }
    if let Some(summary) = &started.demo_seeded {
        println!();
        println!(
            "Demo organisation seeded: {} teams, {} users, {} cases, {} contacts.",
            summary.teams, summary.users, summary.cases, summary.contacts
        );
    }
    if let Some(code) = &started.demo_enrolment_code {
        println!();
        println!(
            "Enrol a demo PRW device ({}) with this code (15 minutes, one use):",
            peerlog_server::demo::DEMO_PRW
        );
        println!("    {code}");
        println!(
            "    POST {scheme}://{addr}/api/v1/enrol {{\"code\": \"{code}\", \"publicKey\": \"<base64 Ed25519>\"}}"
        );
        println!("List the demo cases with: peerlog admin case list");
    }
    if let Some(password) = &started.demo_password {
        println!();
        println!("Coordinator dashboard: {scheme}://{addr}/");
        println!(
            "    sign in as {} (Team Nord) or {} (Team Sør) with the password: {password}",
            peerlog_server::demo::DEMO_COORDINATORS[0],
            peerlog_server::demo::DEMO_COORDINATORS[1]
        );
        println!("    (a fresh demo password at every start with --demo)");
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
