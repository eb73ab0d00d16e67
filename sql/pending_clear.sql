-- Inside the derive's transaction: what it has redone is no longer pending. Only the rows
-- this transaction sees go; an upload committed since it began stays for the next derive.
DELETE FROM derive_pending_batch WHERE school_year = $school_year;
DELETE FROM derive_pending_pupil WHERE school_year = $school_year;
