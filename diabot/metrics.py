"""Prometheus metrics, on a registry owned by the app (no process globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_handled = Counter("diabot_events_handled", "Events given to handlers", registry=self.registry)
        self.commands = Counter("diabot_commands", "Commands run", ["command"], registry=self.registry)
        self.errors = Counter("diabot_errors", "Handler errors (bugs, not user errors)", registry=self.registry)
        self.messages_sent = Counter("diabot_messages_sent", "Events delivered from the outbox", registry=self.registry)
        self.sync_lag = Gauge(
            "diabot_sync_lag_seconds", "Seconds since the last successful sync", registry=self.registry
        )
        self.undecryptable = Counter(
            "diabot_undecryptable_sessions",
            "Megolm sessions whose messages the bot could not decrypt",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "diabot_rate_limited", "Commands refused by a per-user limit", registry=self.registry
        )
        self.unusable_events = Counter(
            "diabot_unusable_events", "Malformed or unhandleable events, skipped", registry=self.registry
        )
        self.outbox_parked = Counter(
            "diabot_outbox_parked", "Messages given up (permanent error or too many attempts)", registry=self.registry
        )
        self.deferred_events = Gauge(
            "diabot_deferred_events", "Events waiting for a retry after a transient failure", registry=self.registry
        )
        self.deferred_given_up = Counter(
            "diabot_deferred_given_up", "Deferred events given up after a day of retries", registry=self.registry
        )
        self.outbox_pending = Gauge("diabot_outbox_pending", "Messages waiting to be sent", registry=self.registry)
        self.translation_piecewise = Counter(
            "diabot_translation_piecewise_sentences",
            "Sentences translated piecewise: the model did not return each placeholder exactly once",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
