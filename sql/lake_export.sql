-- Every active batch's rows into the Parquet layout of the lake, in two bulk writes (for an
-- existing database moving to a lake engine; service/ingest/lake.py renames each file into
-- place). The {enrolment} and {absence} slots are the staging folders, quoted by the caller.
COPY (
    SELECT e.school_year, e.school_id, e.batch_id, e.pupil_key, e.birth_year, e.grade,
           e.residence_code, e.enrolled_from, e.enrolled_to
    FROM enrolment e JOIN batch b ON b.batch_id = e.batch_id AND b.status = 'active'
) TO {enrolment} (FORMAT parquet, PARTITION_BY (school_year, school_id), FILENAME_PATTERN 'batch');
COPY (
    SELECT a.school_year, a.school_id, a.batch_id, a.pupil_key, a.day, a.minutes, a.reason
    FROM absence a JOIN batch b ON b.batch_id = a.batch_id AND b.status = 'active'
) TO {absence} (FORMAT parquet, PARTITION_BY (school_year, school_id), FILENAME_PATTERN 'batch');
