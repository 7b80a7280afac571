use atrium::jobs::{Job, claim_next, enqueue};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;

/// A job told apart by its number (a workspace job; the queue does not read payloads).
fn job(n: i64) -> Job {
    Job::workspace(&n.to_string(), "test")
}

fn number(job: &atrium::jobs::ClaimedJob) -> i64 {
    match job.job().expect("readable") {
        Job::Workspace(step) => step.workspace_id.parse().expect("a number"),
        other => panic!("not a test job: {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn two_workers_never_hold_the_same_job(db: PgPool) {
    for n in 0..20 {
        enqueue(&db, &job(n), Duration::ZERO).await.expect("enqueued");
    }
    let worker = |db: PgPool| async move {
        let mut ran = Vec::new();
        while let Some(job) = claim_next(&db).await.expect("claim") {
            ran.push(number(&job));
            tokio::time::sleep(Duration::from_millis(5)).await; // hold the claim a moment
            job.complete().await.expect("completed");
        }
        ran
    };
    let (a, b) = tokio::join!(tokio::spawn(worker(db.clone())), tokio::spawn(worker(db.clone())));
    let (a, b) = (a.expect("worker a"), b.expect("worker b"));
    let all: Vec<i64> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(all.len(), 20, "every job ran exactly once: {a:?} {b:?}");
    assert_eq!(all.iter().copied().collect::<HashSet<_>>().len(), 20);
    assert!(!a.is_empty() && !b.is_empty(), "both workers took part: {a:?} {b:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_claim_dropped_mid_job_is_taken_up_again(db: PgPool) {
    let id = enqueue(&db, &job(1), Duration::ZERO).await.expect("enqueued");
    let claimed = claim_next(&db).await.expect("claim").expect("a job");
    assert_eq!(claimed.id, id);
    assert!(claim_next(&db).await.expect("claim").is_none(), "held by the first worker");
    drop(claimed); // the worker dies
    let again = claim_next(&db).await.expect("claim").expect("the job is back");
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 0, "a crash is not a failed attempt");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_job_waits_and_counts_its_attempts(db: PgPool) {
    enqueue(&db, &job(1), Duration::ZERO).await.expect("enqueued");
    let claimed = claim_next(&db).await.expect("claim").expect("a job");
    claimed.retry_later(Duration::from_secs(60), "ThrottlingException").await.expect("retried");
    assert!(claim_next(&db).await.expect("claim").is_none(), "not due for a minute");

    sqlx::query("UPDATE jobs SET run_after = now()").execute(&db).await.expect("time passes");
    let again = claim_next(&db).await.expect("claim").expect("due again");
    assert_eq!(again.attempts, 1);
    again.complete().await.expect("completed");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&db).await.expect("count");
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(db: PgPool) {
    let mut tx = db.begin().await.expect("tx");
    enqueue(&mut *tx, &job(1), Duration::ZERO).await.expect("enqueued");
    tx.rollback().await.expect("rolled back");
    assert!(claim_next(&db).await.expect("claim").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rescheduled_job_keeps_its_new_payload_and_is_not_a_failure(db: PgPool) {
    enqueue(&db, &job(1), Duration::ZERO).await.expect("enqueued");
    let claimed = claim_next(&db).await.expect("claim").expect("a job");
    claimed.continue_as(&job(2), Duration::ZERO).await.expect("rescheduled");
    let again = claim_next(&db).await.expect("claim").expect("due");
    assert_eq!(number(&again), 2);
    assert_eq!(again.attempts, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_self_rescheduling_job_exists_once_and_a_restart_makes_it_due(db: PgPool) {
    let sync = Job::CostSync {};
    atrium::jobs::ensure_one_due_now(&db, &sync).await.expect("added");
    let claimed = claim_next(&db).await.expect("claim").expect("due at once");
    claimed.reschedule(Duration::from_secs(3600)).await.expect("rescheduled");
    assert!(claim_next(&db).await.expect("claim").is_none(), "not due for an hour");

    let (a, b) = tokio::join!(atrium::jobs::ensure_one_due_now(&db, &sync), atrium::jobs::ensure_one_due_now(&db, &sync));
    a.and(b).expect("both workers start");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&db).await.expect("count");
    assert_eq!(count, 1, "still one");
    assert!(claim_next(&db).await.expect("claim").is_some(), "due now after the restart");
}
