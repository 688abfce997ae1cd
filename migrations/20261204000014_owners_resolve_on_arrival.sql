-- An owner declared before its team or person was here (`owner: later-team`, `user:guest`)
-- resolves the moment they arrive, whichever way they come: a team an admin makes, one a
-- sign-in's groups make or an import's Group; a person's first sign-in. The catalog keeps its
-- own table current from these events (each arrival is one index lookup on `owner_ref`).
CREATE FUNCTION catalog_owner_team_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT id, slug FROM new_teams LOOP
        UPDATE entities SET owner_team_id = t.id, owner_user_id = NULL
        WHERE owner_ref = t.slug AND owner_team_id IS NULL;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER teams_resolve_owners AFTER INSERT ON teams
    REFERENCING NEW TABLE AS new_teams FOR EACH STATEMENT EXECUTE FUNCTION catalog_owner_team_arrived();

CREATE FUNCTION catalog_owner_person_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT id, username FROM new_users WHERE kind = 'person' LOOP
        UPDATE entities SET owner_user_id = u.id
        WHERE owner_ref = 'user:' || u.username AND owner_team_id IS NULL AND owner_user_id IS NULL;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER users_resolve_owners AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_users FOR EACH STATEMENT EXECUTE FUNCTION catalog_owner_person_arrived();
