//! The demo studies: one of each kind, with a few small files.

use super::*;

/// The portal's bucket for organisation studies (`ATRIUM_STUDIES_BUCKET`'s default).
pub const PORTAL_STUDIES_BUCKET: &str = crate::config::DEFAULT_STUDIES_BUCKET;
/// A public dataset, registered as open data.
pub const OPEN_DATA_BUCKET: &str = "atrium-open-data";

/// A demo study: (scope, team, name, description, bucket, prefix, controlled, files).
pub(super) type DemoStudy = (
    app::domain::studies::StudyScope,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(&'static str, &'static str)],
);

pub(super) const README: &str = "# About this data\n\nDemo files seeded by Atrium.\n";
pub(super) const SAMPLES_CSV: &str = "sample,population,depth\nNA12878,CEU,31\nNA19240,YRI,28\n";
pub(super) const FASTA: &str = ">chr21_fragment\nGATTACAGATTACACCGGTTAACCGGTTAAGATTACA\n";

/// One study of each kind, with a few small files (the team buckets are the teams'
/// `s3-scratch-prefix` buckets, in their own accounts).
pub async fn seed_studies(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    use app::domain::studies::StudyScope;
    const STUDIES: [DemoStudy; 5] = [
        (
            StudyScope::Team,
            Some("genomics"),
            "Reference genomes",
            "GRCh38 fragments and sample sheets for the lab.",
            "atrium-scratch-111111111111",
            "studies/genomics/reference-genomes/",
            false,
            &[("README.md", README), ("samples.csv", SAMPLES_CSV), ("chr21.fasta", FASTA)],
        ),
        (
            StudyScope::Team,
            Some("genomics"),
            "Patient cohort",
            "Controlled: identifiable data, exported only on approval.",
            "atrium-scratch-111111111111",
            "studies/genomics/patient-cohort/",
            true,
            &[("README.md", README), ("cohort.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::My,
            Some("genomics"),
            "Ada's notes",
            "Ada's own working files.",
            "atrium-scratch-111111111111",
            "studies/genomics/ada-notes/",
            false,
            &[("notes.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::Organisation,
            None,
            "Institutional reference panel",
            "Shared by the research office with Genomics and Climate.",
            PORTAL_STUDIES_BUCKET,
            "studies/organisation/reference-panel/",
            false,
            &[("README.md", README), ("panel.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::OpenData,
            None,
            "1000 Genomes (sample)",
            "A slice of the 1000 Genomes Project, from the Registry of Open Data.",
            OPEN_DATA_BUCKET,
            "1000genomes/",
            false,
            &[("README.md", README), ("chr21.fasta", FASTA)],
        ),
    ];
    // One session per team account, whichever of its studies asks first.
    let sessions = crate::aws::team_role::TeamSessions::new(sdk.clone());
    for (scope, team, name, description, bucket, prefix, controlled, files) in STUDIES {
        let config = match team {
            Some(slug) => {
                let team = crate::repo::teams::find(db, &TeamSlug::parse(slug)?).await?.context("a demo study's team")?;
                sessions.config(&team.role(), "atrium-demo-seed").await.map_err(|e| anyhow::anyhow!("{e:?}"))?
            }
            None => sdk.clone(),
        };
        let s3 = crate::aws::s3::S3Store::new(config);
        s3.create_bucket_if_missing(bucket).await?;
        let mut keys: Vec<String> = vec![prefix.to_owned()];
        keys.extend(files.iter().map(|(file, _)| format!("{prefix}{file}")));
        for (key, body) in keys.iter().zip(std::iter::once("").chain(files.iter().map(|(_, body)| *body))) {
            s3.client()
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .with_context(|| format!("Failed to store s3://{bucket}/{key}"))?;
        }
        let owner = if scope == StudyScope::My || team.is_some() { "ada" } else { "grace" };
        let row = crate::repo::studies::NewStudyRow {
            scope,
            team_slug: team,
            name,
            description,
            owner,
            bucket,
            prefix,
            controlled,
            teams: &(if scope == StudyScope::Organisation { vec!["genomics".to_owned(), "climate".to_owned()] } else { Vec::new() }),
        };
        let mut tx = db.begin().await?;
        let existing = crate::repo::studies::at_location(&mut *tx, bucket, prefix).await?;
        let id = match existing {
            Some(id) => id,
            None => crate::repo::studies::insert(&mut tx, &row).await.with_context(|| format!("Failed to write the study {name}"))?,
        };
        tx.commit().await?;
        if controlled {
            // Results a workspace left for export.
            let key = format!("egress/{id}/results/summary.csv");
            s3.client()
                .put_object()
                .bucket(bucket)
                .key(&key)
                .body(SAMPLES_CSV.as_bytes().to_vec().into())
                .send()
                .await
                .context("Failed to store an egress file")?;
        }
    }
    Ok(())
}
