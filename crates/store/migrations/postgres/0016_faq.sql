-- The assistant's FAQ: one row per entry and language, its phrasings a JSON
-- array of strings. `entry_key` names an entry across languages; an import
-- replaces the row with the same key and language.
CREATE TABLE faq_entries (
    id BIGSERIAL PRIMARY KEY,
    entry_key TEXT NOT NULL,
    lang TEXT NOT NULL,
    questions TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (entry_key, lang)
);
-- Questions the assistant refused or answered with low confidence, kept for
-- the operator. `chosen_entry` is the operator's answer, which makes the
-- question and that entry's phrasings labelled pairs for the next training.
CREATE TABLE asked_questions (
    id BIGSERIAL PRIMARY KEY,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,
    outcome TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    best_entry BIGINT,
    chosen_entry BIGINT,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX asked_questions_open ON asked_questions (resolved_at, id);
-- Facts imported into the assistant's knowledge graph (`subject, relation,
-- object`), beside the entities it reads from the market itself.
CREATE TABLE graph_triples (
    id BIGSERIAL PRIMARY KEY,
    subject TEXT NOT NULL,
    relation TEXT NOT NULL,
    object TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (subject, relation, object)
);
