-- A full derive of the school year: every pupil is in scope ($every_pupil is true), so the
-- scope tables that sql/derive_prepare.sql and the writes consult are empty (an incremental
-- derive fills them from sql/pending_scope.sql instead).
CREATE OR REPLACE TEMP TABLE d_scope AS
SELECT pupil_key FROM enrolment WHERE FALSE;

CREATE OR REPLACE TEMP TABLE d_scope_batch AS
SELECT batch_id FROM batch WHERE FALSE;
