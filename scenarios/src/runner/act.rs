//! The timeline: steps at 0 shape the world before anything starts; then
//! every server starts, the runner waits for every link (unless a broken
//! certificate is the point), and each later step runs at its virtual time.

use std::time::Duration;

use harness::mesh::LinkRow;
use harness::Mesh;

use super::world::World;
use super::Stage;
use crate::error::Error;
use crate::plan::{Action, Plan, PlannedStep, Until};

/// How long the topology may take to come up before the first timed step.
const SETTLE: Duration = Duration::from_secs(30);

pub(super) async fn timeline(plan: &Plan, world: &World, stage: &Stage) -> Result<(), Error> {
    let (early, later): (Vec<&PlannedStep>, Vec<&PlannedStep>) = plan.steps.iter().partition(|s| s.at.is_zero());
    for s in &early {
        stage.set(format!("step {} at 0s", s.action.verb()));
        step(s, world).await?;
    }
    stage.set("start");
    world.mesh.start_all().await?;
    if early.is_empty() && plan.expect_all_up {
        stage.set("waiting for every link to come up");
        world.mesh.wait_all_up(SETTLE).await.map_err(Error::NotUp)?;
    }
    for s in &later {
        stage.set(format!("step {} at {}s", s.action.verb(), s.at.as_secs()));
        tokio::time::sleep_until(world.mesh.clock().instant_at(s.at).into()).await;
        step(s, world).await?;
    }
    Ok(())
}

pub(crate) async fn step(s: &PlannedStep, world: &World) -> Result<(), Error> {
    apply(s, world).await.map_err(|e| Error::Step {
        place: s.place.clone(),
        action: s.action.verb(),
        source: Box::new(e),
    })
}

async fn apply(s: &PlannedStep, world: &World) -> Result<(), Error> {
    let mesh = &world.mesh;
    match &s.action {
        Action::Fault { links, toxic } => {
            for link in links {
                world.add_fault(link, toxic, s.at.is_zero()).await?;
            }
        }
        Action::KernelFault { links, fault } => {
            for link in links {
                world.add_kernel_fault(link, fault).await?;
            }
        }
        Action::Clear { links, name } => {
            for link in links {
                world.remove_fault(link, name).await?;
            }
        }
        Action::Stop { server } => mesh.server(server)?.stop().await,
        Action::Kill { server } => mesh.server(server)?.kill().await,
        Action::Start { server } => mesh.server(server)?.start().await?,
        Action::Dns { host, from, entry } => {
            // Without `from`, every server sees the record.
            let from: Vec<String> = match from {
                Some(f) => vec![f.clone()],
                None => mesh.servers().iter().map(|x| x.name()).collect(),
            };
            for f in from {
                mesh.hosts().set_for(&f, host, entry.clone());
            }
        }
        Action::Generation { server, domain, generation_id } => {
            mesh.server(server)?.set_generation_id(domain, *generation_id).await?;
        }
        Action::Wait { until, timeout } => {
            if !wait(mesh, until, *timeout).await? {
                return Err(Error::WaitTimedOut { waited: *timeout, what: until.to_string() });
            }
        }
        // Played by the 389 runner (`runner::r389`); a plan never gives one to a DS mesh.
        Action::R389(_) => {
            return Err(Error::Invalid(Box::new(crate::error::Invalid {
                place: s.place.clone(),
                problem: crate::error::Problem::Shape("a 389 step on a DS topology".into()),
            })))
        }
    }
    Ok(())
}

/// True once `until` holds, false when `limit` passed first.
async fn wait(mesh: &Mesh, until: &Until, limit: Duration) -> Result<bool, Error> {
    let (a, b, want_up) = match until {
        Until::Logged { server, ordinal, count } => {
            let sv = mesh.server(server)?;
            let (ordinal, count) = (*ordinal, *count);
            return Ok(sv
                .log()
                .wait_for(limit, |rs| rs.iter().filter(|r| r.ordinal == ordinal).count() >= count)
                .await);
        }
        Until::LinkUp { a, b } => (a, b, true),
        Until::LinkDown { a, b } => (a, b, false),
        Until::R389(_) => return Ok(false),
    };
    // The harness registers for change notices before it checks: no wake-up is lost.
    let holds = |rows: &[LinkRow]| {
        let mut pair = rows.iter().filter(|r| (r.a == *a && r.b == *b) || (r.a == *b && r.b == *a)).peekable();
        if want_up {
            pair.peek().is_some() && pair.all(|r| r.up)
        } else {
            pair.all(|r| !r.up)
        }
    };
    Ok(mesh.wait_links(limit, holds).await.is_ok())
}
