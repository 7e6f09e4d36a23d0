//! The Exchange 5.5 flavor in the `replharness` command: scenario files of
//! organizations (sites, connectors, schedules, capacities), their plan and
//! their run, `exchange-day`, and `mesh --flavor exchange`. The shared code
//! calls in at three places: [`crate::plan::load`] hands a file whose
//! `[topology]` says `flavor = "exchange"` to [`plan::load`]; the runner
//! plays a plan that carries an [`plan::ExchangePlan`] with [`runner::play`];
//! the binary dispatches the two commands.
//!
//! Code map:
//! - [`format`]: the scenario file's shape (strict serde types); shared step kinds reused.
//! - [`plan`]: file → plan: sites, schedules, capacities, links through the proxy, steps, all checked with places.
//! - [`runner`]: an organization with the fault proxy on every directed link, the timeline, the case, the verdicts.
//! - [`day`]: `replharness exchange-day`.
//! - [`mesh`]: `replharness mesh --flavor exchange`.

pub mod day;
pub mod format;
pub mod mesh;
pub mod plan;
pub mod runner;

pub use plan::ExchangePlan;

/// `replharness exchange-day`: exit 0 once the day ran.
pub async fn day_command(args: day::ExchangeDayArgs) -> anyhow::Result<std::process::ExitCode> {
    let settings = day::DaySettings::try_from(args)?;
    let report = day::run(&settings).await?;
    if settings.json {
        crate::out::line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        crate::out::print(&day::render(&settings, &report))?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
