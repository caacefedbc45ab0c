"""Silences: what the matchers match and what they let through, when a silence mutes (at
its edges too), expiring one, and silences declared in the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from healops.config.load import ConfigError, load_config
from healops.config.models import CorrelationConfig
from healops.correlate.silences import (
    MatcherError,
    Silence,
    SilenceError,
    SilenceMuter,
    anomaly_labels,
    check_matchers,
    parse_matcher,
)
from healops.domain.signals import Anomaly, SeriesKey

T0 = 1_799_020_800.0  # 2027-01-04T00:00:00Z


def anomaly(service: str = "db", kind: str = "down", metric: str = "up",
            **labels: str) -> Anomaly:
    key = SeriesKey.of(metric, service=service, **labels)
    return Anomaly(key, kind, 1.0, 0.0, 1.0, T0, T0)


def ids(n: int = 100) -> list[str]:
    return [f"s{i}" for i in range(1, n)]


def muter() -> SilenceMuter:
    it = iter(ids())
    return SilenceMuter(new_id=lambda: next(it))


# ---- matchers --------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "hits", "misses"), [
    ('service="db"', ["db"], ["dbx", "", "api"]),
    ("service=db", ["db"], ["dbx"]),
    ('service!="db"', ["api", ""], ["db"]),
    ('service=~"db|cache"', ["db", "cache"], ["db-replica", "xdb", "api"]),
    ('service=~"db.*"', ["db", "db-replica"], ["xdb"]),
    ('service!~"db|cache"', ["api", ""], ["db", "cache"]),
    ('service=""', [""], ["db"]),  # no such label reads as the empty string
    ('service!=""', ["db"], [""]),
])
def test_each_operator_matches_what_alertmanager_would(text: str, hits: list[str],
                                                       misses: list[str]) -> None:
    m = parse_matcher(text)
    for v in hits:
        assert m.matches({"service": v} if v else {}), (text, v)
    for v in misses:
        assert not m.matches({"service": v} if v else {}), (text, v)


def test_a_regex_is_anchored_at_both_ends_and_ignores_no_trailing_newline() -> None:
    m = parse_matcher('instance=~"db-[0-9]"')
    assert m.matches({"instance": "db-1"})
    assert not m.matches({"instance": "xdb-1"}) and not m.matches({"instance": "db-12"})
    assert not m.matches({"instance": "db-1\n"})


def test_quoted_values_take_escapes_and_keep_regex_backslashes() -> None:
    assert parse_matcher(r'msg="say \"hi\""').value == 'say "hi"'
    assert parse_matcher(r'path="a\\b"').value == "a\\b"
    m = parse_matcher(r'instance=~"db-\d+"')
    assert m.value == r"db-\d+" and m.matches({"instance": "db-12"})
    assert str(parse_matcher(r'msg = "say \"hi\""')) == r'msg="say \"hi\""'


@pytest.mark.parametrize(("text", "says"), [
    ('9service="db"', "label name"),
    ("service", "operator"),
    ('service=="db"', "unbalanced quote"),
    ('service="db', "unbalanced quote"),
    ('service=~"db("', "regex does not compile"),
    ('service="a"b"', "must be escaped"),
])
def test_a_bad_matcher_is_named_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(MatcherError) as err:
        parse_matcher(text)
    msg = str(err.value)
    assert repr(text) in msg and says in msg
    assert "e.g." in msg or "escaped" in msg or "write" in msg


def test_a_silence_must_need_some_label_value() -> None:
    with pytest.raises(SilenceError, match="at least one matcher"):
        check_matchers([])
    with pytest.raises(SilenceError, match="mute everything") as err:
        check_matchers(['service=~".*"', 'kind!="down"'])
    assert err.value.field == "matchers"
    assert len(check_matchers(['service=~".*"', 'kind="down"'])) == 2


def test_an_anomaly_is_matched_on_its_series_labels_metric_and_kind() -> None:
    key = SeriesKey.of("up", service="db", instance="db-1", region="eu", kind="series-kind")
    a = Anomaly(key, "down", 1.0, 0.0, 1.0, T0, T0)
    labels = anomaly_labels(a)
    assert labels["__name__"] == "up" and labels["region"] == "eu"
    assert labels["service"] == "db" and labels["instance"] == "db-1"
    assert labels["kind"] == "down"  # the anomaly's own kind wins over a series label


# ---- silences in time ------------------------------------------------------------------
def test_a_silence_mutes_from_its_start_up_to_not_including_its_end() -> None:
    m = muter()
    m.add(['service="db"', 'kind=~"down|errors"'], starts_at=T0 + 100, ends_at=T0 + 200,
          now=T0, created_by="alice", comment="db migration")
    down, latency, api = anomaly("db", "down"), anomaly("db", "latency"), anomaly("api")
    assert [m(down, T0 + t) for t in (99.9, 100, 150, 199.9, 200)] == [
        False, True, True, True, False]
    assert not m(latency, T0 + 150)  # another kind on the same service is let through
    assert not m(api, T0 + 150)  # another service is let through


def test_every_matcher_of_a_silence_must_match() -> None:
    m = muter()
    m.add(['service="db"', 'instance="db-1"'], starts_at=T0, ends_at=T0 + 60, now=T0)
    assert m(anomaly("db", instance="db-1"), T0 + 1)
    assert not m(anomaly("db", instance="db-2"), T0 + 1)


def test_expiring_a_silence_lets_its_anomalies_through_from_now() -> None:
    m = muter()
    s = m.add(['service="db"'], starts_at=T0, ends_at=T0 + 3600, now=T0)
    assert m(anomaly(), T0 + 10)
    expired = m.expire(s.id, T0 + 20)
    assert expired is not None and expired.ends_at == T0 + 20
    assert m(anomaly(), T0 + 19) and not m(anomaly(), T0 + 20)
    assert expired.state(T0 + 20) == "expired"
    assert m.expire(s.id, T0 + 30) == expired  # expiring again changes nothing
    assert m.expire("nope", T0) is None


def test_expiring_a_pending_silence_means_it_never_starts() -> None:
    m = muter()
    s = m.add(['service="db"'], starts_at=T0 + 100, ends_at=T0 + 200, now=T0)
    expired = m.expire(s.id, T0 + 50)
    assert expired is not None and expired.state(T0 + 50) == "expired"
    assert not any(m(anomaly(), T0 + t) for t in (100, 150))


def test_a_silence_must_end_after_its_start_and_after_now() -> None:
    m = muter()
    with pytest.raises(SilenceError, match="not after starts_at") as err:
        m.add(['service="db"'], starts_at=T0 + 10, ends_at=T0 + 10, now=T0)
    assert err.value.field == "ends_at"
    with pytest.raises(SilenceError, match="already be over"):
        m.add(['service="db"'], starts_at=T0 - 100, ends_at=T0, now=T0)
    with pytest.raises(MatcherError):
        m.add(['service=~"("'], starts_at=T0, ends_at=T0 + 1, now=T0)
    assert m.list() == []


def test_silences_are_listed_in_the_order_they_were_made_with_ids() -> None:
    m = muter()
    a = m.add(['service="a"'], starts_at=T0, ends_at=T0 + 1, now=T0)
    b = m.add(['service="b"'], starts_at=T0, ends_at=T0 + 1, now=T0)
    assert [s.id for s in m.list()] == ["s1", "s2"] and m.get("s2") == b != a
    assert len(SilenceMuter().add(['service="a"'], starts_at=T0, ends_at=T0 + 1,
                                  now=T0).id) == 36  # a UUID, as Alertmanager's


def test_a_silence_cannot_end_before_it_starts() -> None:
    with pytest.raises(SilenceError, match="before starts_at"):
        Silence("x", check_matchers(['service="db"']), starts_at=T0, ends_at=T0 - 1)


# ---- the config file -------------------------------------------------------------------
def test_config_silences_take_iso_times_or_unix_seconds_and_get_ids() -> None:
    cfg = CorrelationConfig.model_validate({"silences": [
        {"matchers": ['service="db"'], "starts_at": "2027-01-04T22:00:00Z",
         "ends_at": "2027-01-05T00:00:00+01:00", "comment": "migration"},
        {"id": "legacy", "matchers": ["service=legacy"], "ends_at": T0, "comment": "retired"},
    ]})
    m = SilenceMuter.from_config(cfg.silences)
    first, second = m.list()
    assert first.id == "config-1" and second.id == "legacy"
    assert (first.starts_at, first.ends_at) == (T0 + 22 * 3600, T0 + 23 * 3600)
    assert first.created_by == "config"
    assert m(anomaly("db"), T0 + 22 * 3600) and not m(anomaly("db"), T0 + 23 * 3600)
    assert m(anomaly("legacy"), T0 - 1)  # no starts_at: muting since always


def test_a_bad_config_silence_names_the_path_and_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "healops.yaml"
    p.write_text('correlation:\n  silences:\n'
                 '    - {matchers: [\'service=~"db("\'], ends_at: 2027-01-05T00:00:00Z,'
                 ' comment: x}\n'
                 '    - {matchers: [service=db], ends_at: "2027-01-05 00:00", comment: x}\n'
                 '    - {matchers: [service=db], starts_at: 5, ends_at: 4, comment: x}\n'
                 '    - {matchers: [service=db], ends_at: tomorrow, comment: x}\n')
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert "correlation.silences.0.matchers" in msg and 'service=~"db("' in msg
    assert "correlation.silences.1.ends_at" in msg and "no UTC offset; add one" in msg
    assert "correlation.silences.2" in msg and "give an end after the start" in msg
    assert "correlation.silences.3.ends_at" in msg and "2027-01-04T22:00:00Z" in msg


def test_config_silence_ids_are_unique() -> None:
    with pytest.raises(ValueError, match="'config-2' is used twice"):
        CorrelationConfig.model_validate({"silences": [
            {"matchers": ["service=a"], "ends_at": T0, "comment": "x"},
            {"matchers": ["service=b"], "ends_at": T0, "comment": "x"},
            {"id": "config-2", "matchers": ["service=c"], "ends_at": T0, "comment": "x"}]})


def test_runtime_silences_outlive_a_restart_through_the_store(tmp_path: Path) -> None:
    from healops.act.fake import FakeExecutor
    from healops.api.wiring import PageLog
    from healops.bootstrap import bootstrap
    from healops.clock import SimClock
    from healops.config.load import default_config
    from healops.store.sqlalchemy import SqlAlchemyStore

    url = f"sqlite:///{tmp_path / 'h.db'}"
    cfg = default_config().model_copy(update={"store_url": url})

    def start() -> SilenceMuter:
        engine = bootstrap(cfg, executor=FakeExecutor(), pager=PageLog(),
                           store=SqlAlchemyStore(url), clock=SimClock(start=100.0))
        return engine.silences

    first = start()
    kept = first.add(['service="db"'], starts_at=100.0, ends_at=4000.0, now=100.0,
                     created_by="ops", comment="migration")
    gone = first.add(['service="api"'], starts_at=100.0, ends_at=4000.0, now=100.0)
    first.expire(gone.id, now=200.0)
    again = start()
    assert again.get(kept.id) == kept
    expired = again.get(gone.id)
    assert expired is not None and expired.state(300.0) == "expired"
    db = Anomaly(SeriesKey.of("up", service="db"), "down", 1.0, 0.0, 1.0, 0.0, 0.0)
    assert again(db, 300.0) and not again(db, 4000.0)
