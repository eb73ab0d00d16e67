-- Per staged batch: the earliest valid enrolment date, which tells its school year.
SELECT batch_no, min(try_strptime(enrolled_from, '%Y-%m-%d'))::DATE
FROM upload_enrolment
GROUP BY batch_no
