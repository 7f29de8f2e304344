"""Cherry Studio 2.x databases for tests, built from the app's own DDL and seeded the way the app seeds them.

DDL: the app's squashed drizzle migration (`migrations/sqlite-drizzle/0000_*.sql`, CherryHQ/cherry-studio) for the
tables a provider write touches or is constrained by: `app_state`, `preference`, `user_provider`, `user_model`, and
`assistant` (its `model_id` references `user_model` ON DELETE SET NULL); and the user's chats, which a write must
leave as they are: `topic` and `message` (`message.model_id` references `user_model` ON DELETE SET NULL too), verbatim
from `migrations/sqlite-drizzle/0000_orange_jasper_sitwell.sql` in ousugo/cherry-studio at 564c9eac (a later
migration, 0004, adds `message.compaction_summary`, which nothing here reads). `add_chat` writes a topic and its
messages as the app's schema asks (a root message, then a user and an assistant message). Two shapes:

- "release" (2.0.0 to 2.0.8): `user_provider.api_features`; `preference` keyed by `key` alone.
- "later" (2.0.9 and later 2.0.x): no `api_features`; `user_model.input_modalities_explicit`; `preference` keyed by
  (`scope`, `key`), as the migration that added `input_modalities_explicit` also made it. It is the 2.1.x shape
  too, for what a provider write touches: migrations after 2.0.9 add no provider or model column
  (cherry-studio-format.md section 8, read at 2.1.4).

Seeding follows `PresetProviderSeeder` (registry providers, then CherryAI, one `insertManyWithOrderKey` batch at
the end of the order: disabled, keyless, `preset_provider_id` = id; CherryAI enabled) and the CherryAI default-model
seeder (its model and the model preferences). `add_migrated_provider` adds a provider the way the 1.x -> 2.x
migration writes one. Registry details (base URLs, adapter families) are trimmed to what the store reads.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Literal

import fractional_indexing

from cherryconf.stores.install import Install

Shape = Literal["release", "later"]
SHAPES: tuple[Shape, ...] = ("release", "later")
NOW = 1_790_000_000_000  # a fixed "seeded at" time in ms, so tests can tell untouched rows

APP_STATE = """
CREATE TABLE `app_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
"""
PREFERENCE = {
    "release": """
CREATE TABLE `preference` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
""",
    "later": """
CREATE TABLE `preference` (
	`scope` text DEFAULT 'default' NOT NULL,
	`key` text NOT NULL,
	`value` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
""",
}
ASSISTANT = """
CREATE TABLE `assistant` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`prompt` text DEFAULT '' NOT NULL,
	`emoji` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`model_id` text,
	`settings` text NOT NULL,
	`order_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`model_id`) REFERENCES `user_model`(`id`) ON UPDATE no action ON DELETE set null
);
CREATE INDEX `assistant_created_at_idx` ON `assistant` (`created_at`);
CREATE INDEX `assistant_order_key_idx` ON `assistant` (`order_key`);
"""
TOPIC = """
CREATE TABLE `topic` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`is_name_manually_edited` integer DEFAULT false NOT NULL,
	`assistant_id` text,
	`active_node_id` text,
	`trace_id` text,
	`order_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`assistant_id`) REFERENCES `assistant`(`id`) ON UPDATE no action ON DELETE set null
);
CREATE INDEX `topic_updated_at_idx` ON `topic` (`updated_at`);
CREATE INDEX `topic_order_key_idx` ON `topic` (`order_key`);
CREATE INDEX `topic_assistant_id_idx` ON `topic` (`assistant_id`);
"""
MESSAGE = """
CREATE TABLE `message` (
	`id` text PRIMARY KEY NOT NULL,
	`parent_id` text,
	`topic_id` text NOT NULL,
	`role` text NOT NULL,
	`data` text NOT NULL,
	`searchable_text` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`siblings_group_id` integer DEFAULT 0 NOT NULL,
	`model_id` text,
	`message_snapshot` text,
	`stats` text,
	`fts_rowid` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`topic_id`) REFERENCES `topic`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`model_id`) REFERENCES `user_model`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`parent_id`) REFERENCES `message`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "message_role_check" CHECK("message"."role" IN ('user', 'assistant', 'system', 'root')),
	CONSTRAINT "message_status_check" CHECK("message"."status" IN ('pending', 'success', 'error', 'paused')),
	CONSTRAINT "message_root_parent_check" CHECK(("message"."role" = 'root') = ("message"."parent_id" is null))
);
CREATE INDEX `message_parent_id_idx` ON `message` (`parent_id`);
CREATE INDEX `message_topic_created_idx` ON `message` (`topic_id`,`created_at`);
CREATE INDEX `message_status_idx` ON `message` (`status`);
CREATE UNIQUE INDEX `message_topic_root_uniq` ON `message` (`topic_id`) WHERE "message"."parent_id" is null and "message"."deleted_at" is null;
CREATE UNIQUE INDEX `message_fts_rowid_uniq` ON `message` (`fts_rowid`);
"""  # noqa: E501  (the app's DDL, verbatim)
USER_MODEL = """
CREATE TABLE `user_model` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`model_id` text NOT NULL,
	`preset_model_id` text,
	`name` text,
	`description` text,
	`group` text,
	`capabilities` text,
	`input_modalities` text,{explicit}
	`output_modalities` text,
	`endpoint_types` text,
	`context_window` integer,
	`max_input_tokens` integer,
	`max_output_tokens` integer,
	`supports_streaming` integer,
	`reasoning` text,
	`parameters` text,
	`pricing` text,
	`is_enabled` integer DEFAULT true NOT NULL,
	`is_hidden` integer DEFAULT false NOT NULL,
	`is_deprecated` integer DEFAULT false NOT NULL,
	`order_key` text NOT NULL,
	`notes` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `user_provider`(`provider_id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "user_model_custom_config_check" CHECK("user_model"."preset_model_id" IS NOT NULL OR ("user_model"."name" IS NOT NULL AND "user_model"."capabilities" IS NOT NULL AND "user_model"."supports_streaming" IS NOT NULL))
);
CREATE INDEX `user_model_preset_idx` ON `user_model` (`preset_model_id`);
CREATE INDEX `user_model_provider_enabled_idx` ON `user_model` (`provider_id`,`is_enabled`);
CREATE INDEX `user_model_provider_id_order_key_idx` ON `user_model` (`provider_id`,`order_key`);
CREATE UNIQUE INDEX `user_model_provider_model_unique` ON `user_model` (`provider_id`,`model_id`);
"""  # noqa: E501  (the app's DDL, verbatim)
USER_PROVIDER = """
CREATE TABLE `user_provider` (
	`provider_id` text PRIMARY KEY NOT NULL,
	`preset_provider_id` text,
	`name` text NOT NULL,
	`logo_key` text,
	`endpoint_configs` text,
	`default_chat_endpoint` text,
	`api_keys` text DEFAULT '[]',
	`auth_config` text,{api_features}
	`provider_settings` text,
	`is_enabled` integer DEFAULT false NOT NULL,
	`order_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
CREATE INDEX `user_provider_preset_idx` ON `user_provider` (`preset_provider_id`);
CREATE INDEX `user_provider_enabled_idx` ON `user_provider` (`is_enabled`);
CREATE INDEX `user_provider_order_key_idx` ON `user_provider` (`order_key`);
"""


def ddl(shape: Shape) -> str:
    later = shape == "later"
    return "".join([
        APP_STATE,
        PREFERENCE[shape],
        ASSISTANT,
        USER_MODEL.format(explicit="\n\t`input_modalities_explicit` integer DEFAULT false NOT NULL," if later else ""),
        USER_PROVIDER.format(api_features="" if later else "\n\t`api_features` text,"),
        TOPIC,
        MESSAGE,
    ])


def _chat(base_url: str, family: str = "openai-compatible") -> dict[str, Any]:
    return {"openai-chat-completions": {"adapterFamily": family, "baseUrl": base_url}}


# (id, name, default endpoint, endpoint configs, auth config, api features): registry order, trimmed.
PRESETS: list[tuple[str, str, str | None, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]] = [
    ("silicon", "Silicon", "openai-chat-completions",
     {**_chat("https://api.siliconflow.cn/v1"),
      "anthropic-messages": {"adapterFamily": "anthropic", "baseUrl": "https://api.siliconflow.cn"}}, None, None),
    ("deepseek", "deepseek", "openai-chat-completions", _chat("https://api.deepseek.com", "deepseek"), None, None),
    ("anthropic", "Anthropic", "anthropic-messages",
     {"anthropic-messages": {"adapterFamily": "anthropic", "baseUrl": "https://api.anthropic.com"}}, None, None),
    ("openai", "OpenAI", "openai-responses",
     {"openai-responses": {"adapterFamily": "openai", "baseUrl": "https://api.openai.com"}}, None,
     {"developerRole": True, "serviceTier": True}),
    ("azure-openai", "Azure OpenAI", "openai-chat-completions",
     {"openai-chat-completions": {"adapterFamily": "azure"}}, {"type": "iam-azure", "apiVersion": ""}, None),
    ("gemini", "Gemini", "google-generate-content",
     {"google-generate-content": {"adapterFamily": "google", "baseUrl": "https://generativelanguage.googleapis.com"}},
     None, None),
]
CHERRYAI_MODEL = "cherryai::cherry-default"  # the seeded default model (its model id here is illustrative)
MODEL_PREFERENCES = ("chat.default_model_id", "topic.naming.model_id", "feature.quick_assistant.model_id",
                     "feature.translate.model_id")


def _j(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    cols = [c for c in row if c in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}]
    conn.execute(f"INSERT INTO {table} ({','.join(f'`{c}`' for c in cols)}) VALUES ({','.join('?' * len(cols))})",
                 [row[c] for c in cols])


def seed(conn: sqlite3.Connection, migration_status: str | None = "completed") -> None:
    keys = fractional_indexing.generate_n_keys_between(None, None, len(PRESETS) + 1)
    for (pid, name, endpoint, configs, auth, features), key in zip(PRESETS, keys, strict=False):
        _insert(conn, "user_provider", {
            "provider_id": pid, "preset_provider_id": pid, "name": name, "endpoint_configs": _j(configs),
            "default_chat_endpoint": endpoint, "auth_config": _j(auth), "api_features": _j(features),
            "is_enabled": 0, "order_key": key, "created_at": NOW, "updated_at": NOW,
        })
    _insert(conn, "user_provider", {
        "provider_id": "cherryai", "preset_provider_id": "cherryai", "name": "CherryAI",
        "endpoint_configs": _j({"openai-chat-completions": {"baseUrl": "https://api.cherry-ai.com"}}),
        "default_chat_endpoint": "openai-chat-completions", "is_enabled": 1, "order_key": keys[-1],
        "created_at": NOW, "updated_at": NOW,
    })
    _insert(conn, "user_model", {
        "id": CHERRYAI_MODEL, "provider_id": "cherryai", "model_id": CHERRYAI_MODEL.split("::")[1],
        "name": "Cherry Default", "group": "Cherry", "capabilities": "[]", "supports_streaming": 1,
        "order_key": "a0", "created_at": NOW, "updated_at": NOW,
    })
    for key in MODEL_PREFERENCES:
        _insert(conn, "preference", {"key": key, "value": _j(CHERRYAI_MODEL), "created_at": NOW, "updated_at": NOW})
    if migration_status is not None:
        value = _j({"status": migration_status, "completedAt": NOW, "error": None})
        _insert(conn, "app_state", {"key": "migration_v2_status", "value": value, "created_at": NOW,
                                    "updated_at": NOW})


def add_migrated_provider(conn: sqlite3.Connection) -> None:
    """A 1.x custom gateway as the migration writes it: two keys (one switched off later), three models."""
    _insert(conn, "user_provider", {
        "provider_id": "relay", "preset_provider_id": None, "name": "My Relay",
        "endpoint_configs": _j(_chat("https://relay.example")), "default_chat_endpoint": "openai-chat-completions",
        "api_keys": _j([{"id": "6f1c9a52-3f55-4a42-9a8e-0c2b8f1f6a01", "key": "sk-on", "isEnabled": True},
                        {"id": "0b7e2c44-8d1a-4c3e-b5f0-7a9d6e2c1b02", "key": "sk-off", "isEnabled": False}]),
        "auth_config": _j({"type": "api-key"}), "api_features": _j({"streamOptions": False}),
        "provider_settings": _j({"notes": "from 1.x", "rateLimit": 5}), "is_enabled": 1,
        # The migration appends after the last seeded provider.
        "order_key": fractional_indexing.generate_key_between(
            conn.execute("SELECT max(order_key) FROM user_provider").fetchone()[0], None),
        "created_at": NOW, "updated_at": NOW,
    })
    models = [
        ("gpt-4o", "GPT-4o", "gpt-4o", ["function-call", "image-recognition", "image-generation"], None),
        ("text-embedding-3-small", "Embedding", "text-embedding-3", ["embedding"], ["openai"]),
        ("o3", "o3", "o3", [], None),
    ]
    keys = fractional_indexing.generate_n_keys_between(None, None, len(models))
    for (mid, name, group, caps, endpoints), key in zip(models, keys, strict=True):
        _insert(conn, "user_model", {
            "id": f"relay::{mid}", "provider_id": "relay", "model_id": mid, "name": name, "group": group,
            "capabilities": _j(caps), "endpoint_types": _j(["openai-chat-completions"] if endpoints else None),
            "supports_streaming": 1, "is_enabled": 1, "order_key": key, "created_at": NOW, "updated_at": NOW,
        })
    _insert(conn, "assistant", {"id": "asst-1", "name": "Helper", "emoji": "🙂", "model_id": "relay::o3",
                                "settings": "{}", "order_key": "a0", "created_at": NOW, "updated_at": NOW})


def add_chat(conn: sqlite3.Connection, topic_id: str, name: str, model_uid: str | None = None,
             assistant_id: str | None = None, at: int = NOW) -> None:
    """A topic and a short chat in it, as the app's tables hold one: a root message, a question, an answer."""
    key = fractional_indexing.generate_key_between(
        conn.execute("SELECT max(order_key) FROM topic").fetchone()[0], None)
    _insert(conn, "topic", {"id": topic_id, "name": name, "assistant_id": assistant_id, "order_key": key,
                            "created_at": at, "updated_at": at})
    parent = None
    for i, (role, text) in enumerate((("root", ""), ("user", "你好"), ("assistant", "Hello! 😀"))):
        mid = f"{topic_id}-m{i}"
        _insert(conn, "message", {
            "id": mid, "parent_id": parent, "topic_id": topic_id, "role": role,
            "data": _j({"blocks": [{"type": "main_text", "content": text}]}), "searchable_text": text,
            "status": "success", "model_id": model_uid if role == "assistant" else None,
            "created_at": at + i, "updated_at": at + i})
        parent = mid


def build(data_dir: Path, shape: Shape = "release", *, migration_status: str | None = "completed",
          migrated_provider: bool = True, extra_sql: str = "") -> Install:
    """A userData directory holding a seeded 2.x database in WAL mode, as the app leaves it."""
    db = data_dir / "Data" / "cherrystudio.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(ddl(shape) + extra_sql)
        conn.execute("BEGIN")
        seed(conn, migration_status)
        if migrated_provider:
            add_migrated_provider(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Install(data_dir=data_dir, kind="v2", app_version="2.0.7", found_by="test")


# --- a first boot of the newest app ------------------------------------------------------------------------------
#
# What the app's seeders write into a fresh database, as read at ousugo/cherry-studio 564c9eac (the fork of
# CherryHQ/cherry-studio that tracks its main branch; package.json says 2.0.8, schema of 2.0.9+): the schema is
# the "later" shape above (migrations 0000, 0012 dropping `api_features`, 0014 adding `input_modalities_explicit`,
# migrations/sqlite-drizzle/), and the seeders run in the order of src/main/data/db/seeding/seederRegistry.ts:
#
# - CherryAiDefaultModelSeeder (seeders/cherryaiDefaultModelSeeder.ts; names in src/shared/data/presets/cherryai.ts):
#   provider `cherryai` "CherryAI", enabled, chat endpoint https://api.cherry-ai.com, no auth config; model
#   `cherryai::qwen` "Qwen" (group "Qwen", capabilities [], streaming); the preferences chat.default_model_id,
#   feature.quick_assistant.model_id and feature.translate.model_id (scope "default") = "cherryai::qwen".
# - PresetProviderSeeder (seeders/presetProviderSeeder.ts): one DELTA row per registry provider
#   (packages/provider-registry/data/providers.json): id, preset id (the entry's presetProviderId, else its id),
#   name, and an auth shell only for vertexai, azure-openai and aws-bedrock. Endpoints are NOT stored: they resolve
#   from the registry at read time. Disabled (the column's default), keyless (api_keys default '[]').
# - LocalModelSeeder (seeders/LocalModelSeeder.ts; names in src/shared/data/presets/localEmbedding.ts): provider
#   `local-embedding` "Local Models", endpoint_configs {}, no default endpoint, no auth, enabled; model
#   `local-embedding::qwen3-embedding-0.6b` "Qwen3 Embedding 0.6B" (group "Qwen", capabilities ["embedding"],
#   not streaming). It runs in-process: no host, no key.
# - MigrationEngine.needsMigration (migration/v2/core/MigrationEngine.ts): a fresh install marks the migration
#   completed.
#
# Every provider batch goes through ProviderService.batchUpsertTx -> insertManyWithOrderKey (position 'last'):
# appended after the largest order key; a model's key is scoped to its provider (services/utils/orderKey.ts).
# Timestamps are Date.now() at insert (db/schemas/_columnHelpers.ts); here the fixed NOW.

FIRST_BOOT_COMMIT = "564c9eac"
FIRST_BOOT_VERSION = "2.0.8"
# (id, name, preset id) of providers.json at 564c9eac, in its order.
REGISTRY_PROVIDERS: list[tuple[str, str, str]] = [
    (pid, name, preset or pid) for pid, name, preset in [
        ("cherryin", "CherryIN", None), ("radeon-cloud", "AMD GPU Cloud", None), ("silicon", "Silicon", None),
        ("aihubmix", "AiHubMix", None), ("ovms", "OpenVINO Model Server", None), ("ocoolai", "ocoolAI", None),
        ("zhipu", "ZhiPu", None), ("deepseek", "deepseek", None), ("alayanew", "AlayaNew", None),
        ("dmxapi", "DMXAPI", None), ("aionly", "AIOnly", None), ("burncloud", "BurnCloud", None),
        ("302ai", "302.AI", None), ("lanyun", "LANYUN", None), ("ph8", "PH8", None), ("sophnet", "SophNet", None),
        ("ppio", "PPIO", None), ("qiniu", "Qiniu", None), ("openrouter", "OpenRouter", None),
        ("ollama", "Ollama", None), ("new-api", "New API", None), ("lmstudio", "LM Studio", None),
        ("anthropic", "Anthropic", None), ("claude-code", "Claude Code", None),
        ("openai-codex", "OpenAI Codex", None), ("grok-cli", "Grok CLI", None), ("openai", "OpenAI", None),
        ("opencode", "OpenCode Go", None), ("azure-openai", "Azure OpenAI", None), ("gemini", "Gemini", None),
        ("vertexai", "VertexAI", None), ("copilot", "Github Copilot", None), ("moonshot", "Moonshot AI", None),
        ("baichuan", "BAICHUAN AI", None), ("dashscope", "Bailian", None), ("stepfun", "StepFun", None),
        ("doubao", "doubao", None), ("minimax", "MiniMax", None), ("groq", "Groq", None),
        ("together", "Together", None), ("fireworks", "Fireworks", None), ("nvidia", "nvidia", None),
        ("grok", "Grok", None), ("mistral", "Mistral", None), ("jina", "Jina", None),
        ("perplexity", "Perplexity", None), ("modelscope", "ModelScope", None), ("xirang", "Xirang", None),
        ("tokenhub", "TokenHub", None), ("baidu-cloud", "Baidu Cloud", None), ("gpustack", "GPUStack", None),
        ("voyageai", "VoyageAI", None), ("aws-bedrock", "AWS Bedrock", None), ("poe", "Poe", None),
        ("longcat", "LongCat", None), ("huggingface", "Hugging Face", None), ("gateway", "Vercel AI Gateway", None),
        ("cerebras", "Cerebras AI", None), ("mimo", "Xiaomi MiMo", None), ("zai", "zai", "zhipu"),
        ("minimax-global", "minimax-global", "minimax"),
    ]
]
_SEED_AUTH = {"vertexai": {"type": "iam-gcp", "project": "", "location": ""},
              "azure-openai": {"type": "iam-azure", "apiVersion": ""}, "aws-bedrock": {"type": "iam-aws", "region": ""}}
LOCAL_EMBEDDING_MODEL = "local-embedding::qwen3-embedding-0.6b"
CHERRYAI_QWEN = "cherryai::qwen"


def _append_providers(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    last = conn.execute("SELECT max(order_key) FROM user_provider").fetchone()[0]
    fresh = [r for r in rows if conn.execute("SELECT 1 FROM user_provider WHERE provider_id = ?",
                                             (r["provider_id"],)).fetchone() is None]
    for row, key in zip(fresh, fractional_indexing.generate_n_keys_between(last, None, len(fresh)), strict=True):
        _insert(conn, "user_provider", {**row, "order_key": key, "created_at": NOW, "updated_at": NOW})


def _seed_model(conn: sqlite3.Connection, uid: str, name: str, group: str, caps: list[str], streams: bool) -> None:
    pid, _sep, mid = uid.partition("::")
    _insert(conn, "user_model", {
        "id": uid, "provider_id": pid, "model_id": mid, "preset_model_id": None, "name": name, "group": group,
        "capabilities": _j(caps), "supports_streaming": int(streams), "order_key": "a0", "created_at": NOW,
        "updated_at": NOW})


def first_boot(data_dir: Path, version: str = FIRST_BOOT_VERSION) -> Install:
    """A userData directory as the newest 2.x app leaves it after its first start on a fresh machine."""
    db = data_dir / "Data" / "cherrystudio.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "version.log").write_text(f"{version}|linux|prod|packaged|install|2026-08-22T10:00:00.000Z\n",
                                          encoding="utf-8")
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(ddl("later"))
        conn.execute("BEGIN")
        _append_providers(conn, [{
            "provider_id": "cherryai", "preset_provider_id": "cherryai", "name": "CherryAI",
            "endpoint_configs": _j({"openai-chat-completions": {"baseUrl": "https://api.cherry-ai.com"}}),
            "default_chat_endpoint": "openai-chat-completions", "is_enabled": 1}])
        _seed_model(conn, CHERRYAI_QWEN, "Qwen", "Qwen", [], True)
        for key in ("chat.default_model_id", "feature.quick_assistant.model_id", "feature.translate.model_id"):
            _insert(conn, "preference", {"scope": "default", "key": key, "value": _j(CHERRYAI_QWEN),
                                         "created_at": NOW, "updated_at": NOW})
        _append_providers(conn, [{"provider_id": pid, "preset_provider_id": preset, "name": name,
                                  "auth_config": _j(_SEED_AUTH.get(pid))} for pid, name, preset in REGISTRY_PROVIDERS])
        _append_providers(conn, [{"provider_id": "local-embedding", "preset_provider_id": "local-embedding",
                                  "name": "Local Models", "endpoint_configs": "{}", "is_enabled": 1}])
        _seed_model(conn, LOCAL_EMBEDDING_MODEL, "Qwen3 Embedding 0.6B", "Qwen", ["embedding"], False)
        value = _j({"status": "completed", "completedAt": NOW, "error": None})
        _insert(conn, "app_state", {"key": "migration_v2_status", "value": value, "created_at": NOW, "updated_at": NOW})
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Install(data_dir=data_dir, kind="v2", app_version=version, found_by="test")


def connect(install: Install) -> sqlite3.Connection:
    conn = sqlite3.connect(install.sqlite_path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def dump(install: Install) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, for "nothing else changed" comparisons."""
    conn = connect(install)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted((dict(r) for r in conn.execute(f"SELECT * FROM `{t}`")), key=repr) for t in tables}
    finally:
        conn.close()
