-- Finds the change-log rows of one object (JMAP /changes asks whether an object existed at an
-- earlier state: did it have a create row at or before that modseq?).
CREATE INDEX changes_by_object ON changes (account_id, type, object_id, modseq);
