-- The airlock: data comes into a study (imports) and leaves a controlled one (exports) only
-- through requests that are scanned for malware, reviewed by one or two people and audited.
-- Export requests were egress_requests; they become the airlock's requests.

ALTER TABLE egress_requests RENAME TO airlock_requests;
ALTER INDEX egress_requests_by_study RENAME TO airlock_requests_by_study;
ALTER INDEX egress_requests_pkey RENAME TO airlock_requests_pkey;
ALTER SEQUENCE egress_requests_id_seq RENAME TO airlock_requests_id_seq;
ALTER TABLE airlock_requests RENAME CONSTRAINT egress_requests_study_id_fkey TO airlock_requests_study_id_fkey;
ALTER TABLE airlock_requests RENAME CONSTRAINT egress_requests_reason_check TO airlock_requests_reason_check;
ALTER TABLE airlock_requests DROP CONSTRAINT egress_requests_status_check;
ALTER TABLE airlock_requests DROP CONSTRAINT egress_requests_files_check;

ALTER TABLE airlock_requests
    ADD COLUMN direction TEXT NOT NULL DEFAULT 'export' CHECK (direction IN ('import', 'export')),
    -- The team it was asked from (whose pages show it); its admins review a team study's.
    ADD COLUMN team_slug TEXT REFERENCES teams (slug),
    -- How many approvals, from different people, release it.
    ADD COLUMN reviewers_needed SMALLINT NOT NULL DEFAULT 1 CHECK (reviewers_needed IN (1, 2)),
    -- Why it is where it is, when that needs saying (the threat found, the copy that failed).
    ADD COLUMN status_note TEXT CHECK (length(status_note) <= 2000),
    ADD COLUMN status_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Names the request's inbox and quarantine folders: never reused, even if ids are (a
    -- restored database), so no request sees another's leftovers.
    ADD COLUMN folder UUID NOT NULL DEFAULT gen_random_uuid();

-- An organisation study's request is seen from a team that shares the study, the requester's
-- own if there is one.
UPDATE airlock_requests r SET
    team_slug = coalesce(
        s.team_slug,
        (SELECT min(t.team_slug) FROM study_teams t JOIN team_memberships m ON m.team_slug = t.team_slug AND m.username = r.requester
         WHERE t.study_id = s.id),
        (SELECT min(t.team_slug) FROM study_teams t WHERE t.study_id = s.id)),
    status = CASE r.status WHEN 'pending' THEN 'in_review' WHEN 'approved' THEN 'completed' ELSE r.status END,
    status_at = coalesce(r.decided_at, r.created_at)
FROM studies s WHERE s.id = r.study_id;

ALTER TABLE airlock_requests ALTER COLUMN status SET DEFAULT 'draft';
ALTER TABLE airlock_requests ADD CONSTRAINT airlock_requests_status_check CHECK (status IN (
    'draft', 'scanning', 'in_review', 'approved', 'completed', 'rejected', 'blocked', 'cancelled'));

-- Each reviewer's decision: one per person, so two approvals are two people.
CREATE TABLE airlock_reviews (
    request_id  BIGINT NOT NULL REFERENCES airlock_requests (id) ON DELETE CASCADE,
    reviewer    TEXT NOT NULL,
    approve     BOOLEAN NOT NULL,
    note        TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    decided_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A rejection says why.
    CHECK (approve OR length(note) > 0),
    PRIMARY KEY (request_id, reviewer)
);

INSERT INTO airlock_reviews (request_id, reviewer, approve, note, decided_at)
SELECT id, decided_by, status = 'completed',
       CASE WHEN status = 'completed' THEN coalesce(decision_note, '') ELSE coalesce(nullif(decision_note, ''), 'No reason given.') END,
       coalesce(decided_at, created_at)
FROM airlock_requests WHERE decided_by IS NOT NULL;

-- A request's files, with what the malware scan said of each (GuardDuty's
-- GuardDutyMalwareScanStatus tag; NULL until it is read).
CREATE TABLE airlock_files (
    request_id  BIGINT NOT NULL REFERENCES airlock_requests (id) ON DELETE CASCADE,
    -- Relative to the request's held folder (airlock/<folder>/), where its files are copied
    -- from the import's inbox or the study's egress folder when it is submitted.
    path        TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 1024),
    size        BIGINT CHECK (size >= 0),
    scan        TEXT CHECK (scan IN ('NO_THREATS_FOUND', 'THREATS_FOUND', 'UNSUPPORTED', 'FAILED')),
    PRIMARY KEY (request_id, path)
);

-- Exports decided before the airlock were never scanned, nor held: they keep no scan result,
-- and their files stay in the study's egress folder.
INSERT INTO airlock_files (request_id, path) SELECT id, unnest(files) FROM airlock_requests;

ALTER TABLE airlock_requests DROP COLUMN files, DROP COLUMN decided_by, DROP COLUMN decided_at, DROP COLUMN decision_note;

CREATE INDEX airlock_requests_by_team ON airlock_requests (team_slug, id DESC);

-- How many approvals, from different people, a team's requests need.
ALTER TABLE teams ADD COLUMN reviewers SMALLINT NOT NULL DEFAULT 1 CHECK (reviewers IN (1, 2));
UPDATE audit_log SET object_type = 'airlock_request' WHERE object_type = 'egress_request';
-- A request's history is its audit rows.
CREATE INDEX audit_log_by_object ON audit_log (object_type, object_id, id);
