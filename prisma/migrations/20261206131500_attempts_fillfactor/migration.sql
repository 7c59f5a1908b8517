-- An attempt is written several times after its insert (reserved, handed to the vendor, then
-- each status the vendor reports). With full pages every new version moved to another page
-- and was entered again in all five indexes. Room left on the page keeps it there (a HOT
-- update, no index entries, pruned without VACUUM). Applies to pages written from now on.
ALTER TABLE "contact_attempts" SET (fillfactor = 80);
