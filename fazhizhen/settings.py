"""Settings: one pydantic-settings class, FAZHIZHEN_ prefix, read once and passed explicitly."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; see CONTRACT.md section 1 for the contract ones."""

    # empty variables count as unset, so a compose file can pass every setting through (docker-compose.yml)
    model_config = SettingsConfigDict(env_prefix="FAZHIZHEN_", env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: SecretStr | None = None
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: int = 8080

    escalate_after_seconds: float = Field(900, gt=0)
    pool_sla_seconds: float = Field(900, gt=0)
    sweep_interval_seconds: float = Field(1, gt=0)
    remind_before_seconds: float = Field(300, ge=0)

    dev_login: bool = False
    wechat_appid: str | None = None
    wechat_secret: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"

    rate_questions_per_hour: int = Field(10, ge=1)
    rate_questions_per_day: int = Field(30, ge=1)
    max_open_questions: int = Field(5, ge=1)
    login_max_failures: int = Field(5, ge=1)
    # security (issue 4): lock-out back-off, per-address limits, WeChat timeouts, retention
    login_lockout_seconds: float = Field(300, gt=0)
    login_lockout_max_seconds: float = Field(3600, gt=0)
    login_max_failures_per_address: int = Field(20, ge=1)
    login_failure_window_seconds: float = Field(3600, gt=0)
    wechat_logins_per_address_per_minute: int = Field(30, ge=1)
    wechat_timeout_seconds: float = Field(5, gt=0)
    wechat_content_check: bool = True
    retention_days: int = Field(365 * 3, ge=1)
    # audit entries: six months at least (Cybersecurity Law art. 21; the database refuses fewer)
    audit_retention_days: int = Field(180, ge=180)
    password_min_length: int = Field(10, ge=8)
    trust_forwarded_for: bool = False

    # real-time streams and notifications (fazhizhen/realtime, services/outbox.py)
    realtime_enabled: bool = True
    stream_poll_seconds: float = Field(0.05, gt=0)
    stream_heartbeat_seconds: float = Field(15, gt=0)
    stream_client_buffer: int = Field(1000, ge=1)
    stream_retention_seconds: float = Field(7 * 24 * 3600, gt=0)
    outbox_interval_seconds: float = Field(1, gt=0)
    outbox_workers: int = Field(4, ge=1)
    outbox_max_attempts: int = Field(8, ge=1)
    outbox_backoff_base_seconds: float = Field(2, ge=0)
    outbox_backoff_cap_seconds: float = Field(600, ge=0)
    http_timeout_seconds: float = Field(5, gt=0)
    wechat_template_answered: str | None = None
    wechat_template_followup: str | None = None
    wechat_page: str = "pages/question/detail?id={question_id}"
    wechat_miniprogram_state: str = Field("formal", pattern="^(developer|trial|formal)$")

    timezone: str = "Asia/Shanghai"
    log_format: str = Field("json", pattern="^(json|console)$")
    log_level: str = "INFO"

    # argon2id cost (OWASP defaults); tests lower it through the environment to stay fast
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    argon2_parallelism: int = Field(4, ge=1)

    resident_token_ttl_seconds: int = 30 * 24 * 3600
    staff_token_ttl_seconds: int = 12 * 3600
    db_pool_min: int = 2
    db_pool_max: int = 20
    # residents' questions committed together under load, at most this many per statement (1: one each)
    intake_batch_max: int = Field(64, ge=1, le=1000)
    scheduler_enabled: bool = True
    # train the question classifier in a background thread at start-up (tests turn it off: CPU at start)
    classifier_warm_up: bool = True
    shutdown_timeout_seconds: float = 10.0

    def apply_password_cost(self) -> None:
        """Configure the process-wide password hasher from these settings."""
        from fazhizhen.services.passwords import configure

        configure(self.argon2_time_cost, self.argon2_memory_kib, self.argon2_parallelism)

    @property
    def sql_dir(self) -> Path:
        """Where the migrations and named queries live."""
        return Path(__file__).resolve().parent.parent / "sql"
