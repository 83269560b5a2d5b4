//! The `peerlog` binary: wires configuration into the relay (coming with the relay issue).

fn main() -> anyhow::Result<()> {
    println!("peerlog relay: not built yet; see README.md");
    Ok(())
}
