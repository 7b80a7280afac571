-- A home's directory on the file system: /home/<username>, or /home/u<uid> for a name that
-- makes no plain path. Homes made before this were all /home/<username>.
ALTER TABLE user_homes ADD COLUMN path TEXT;
UPDATE user_homes SET path = '/home/' || username;
ALTER TABLE user_homes ALTER COLUMN path SET NOT NULL;
ALTER TABLE user_homes ADD CONSTRAINT user_homes_path_check CHECK (path ~ '^/home/[A-Za-z0-9._-]{1,64}$') NOT VALID;
