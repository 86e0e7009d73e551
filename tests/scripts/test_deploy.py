"""The deployment files in deploy/ are not run by any test (no Docker, no cluster here);
these checks keep them from rotting quietly: each says so at its top, the YAML parses,
the commands they run exist (`python -m bot ...` as bot/cli.py parses it, the files Rasa
is pointed at), and every variable they set or read is one the code or the README knows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.app import create_app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# Prefixes of our own variables; others (POSTGRES_PASSWORD for the postgres image,
# PYTHONUNBUFFERED) belong to the images and tools that read them.
OURS = re.compile(r"^(TOLK|TELEGRAM|WHATSAPP|MESSENGER|GRAPH)_[A-Z0-9_]+$")
# Where the variables our processes read are named.
READERS = (
    "bot/settings.py",
    "actions/settings.py",
    "tolk_core/internal_secrets.py",
    "scripts/stack.py",
    "endpoints.yml",
    "credentials.yml",
)


def deploy_files() -> list[Path]:
    # deploy/.env is the operator's filled-in copy (git-ignored), not ours.
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.name != ".env")


def yaml_documents(path: Path) -> list:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict:
    return yaml_documents(DEPLOY / "compose.yaml")[0]


def manifests() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml_documents(path)]


def containers(kind: str | None = None) -> list[tuple[str, dict]]:
    """(workload name, container) of every Deployment and Job."""
    found = []
    for doc in manifests():
        if doc["kind"] in ("Deployment", "Job") and kind in (None, doc["kind"]):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                found.append((doc["metadata"]["name"], container))
    return found


def dockerfile_commands(path: Path) -> list[list[str]]:
    text = path.read_text().replace("\\\n", " ")
    return [
        json.loads(line.removeprefix("CMD "))
        for line in text.splitlines()
        if line.startswith("CMD ")
    ]


def every_command() -> list[list[str]]:
    commands = [
        service["command"] for service in compose()["services"].values() if "command" in service
    ]
    commands += [container["command"] for _, container in containers()]
    for path in DEPLOY.glob("Dockerfile.*"):
        commands += dockerfile_commands(path)
    return commands


def known_variables() -> set[str]:
    names = set()
    for reader in READERS:
        names |= set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", (ROOT / reader).read_text()))
    names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "README.md").read_text()))
    return names


def expanded(path: Path) -> set[str]:
    """The ${VARIABLE}s a file leaves to whoever reads it (Rasa, compose), comments aside."""
    lines = (line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", "\n".join(lines)))


def test_there_are_deploy_files_and_each_says_it_is_not_exercised_here():
    names = {p.relative_to(DEPLOY).as_posix() for p in deploy_files()}
    assert {
        "compose.yaml",
        "Dockerfile.gateway",
        "Dockerfile.rasa",
        "k8s/gateway.yaml",
        "k8s/rasa.yaml",
        "k8s/actions.yaml",
        "k8s/configmap.yaml",
        "k8s/secret.example.yaml",
        "k8s/migrate-job.yaml",
    } <= names
    for path in deploy_files():
        first = path.read_text().splitlines()[0]
        assert re.match(r"^(#|--) Not exercised in CI: ", first), f"{path}: {first!r}"


def test_the_yaml_parses_and_the_manifests_are_complete():
    for path in deploy_files():
        if path.suffix in (".yaml", ".yml"):
            assert yaml_documents(path), f"{path} is empty"
    kinds = sorted(doc["kind"] for doc in manifests())
    assert kinds == sorted(["ConfigMap", "Secret", "Job"] + ["Deployment", "Service"] * 3), kinds
    for doc in manifests():
        assert doc["apiVersion"] and doc["metadata"]["name"]
    deployments = {d["metadata"]["name"]: d for d in manifests() if d["kind"] == "Deployment"}
    assert set(deployments) == {"gateway", "rasa", "actions"}
    services = {d["metadata"]["name"]: d for d in manifests() if d["kind"] == "Service"}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] == 2
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert services[name]["spec"]["selector"].items() <= labels.items(), name


def test_the_probes_ask_routes_that_exist():
    routes = {resource.canonical for resource in create_app(Settings()).router.resources()}
    for workload, container in containers("Deployment"):
        assert "livenessProbe" in container and "readinessProbe" in container, workload
    gateway = next(c for name, c in containers("Deployment") if name == "gateway")
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"/livez", "/readyz"} <= routes
    actions = next(c for name, c in containers("Deployment") if name == "actions")
    assert actions["readinessProbe"]["httpGet"]["path"] == "/health"
    assert '"/health"' in (ROOT / "scripts" / "actions_server.py").read_text()
    checks = {
        name: " ".join(s["healthcheck"]["test"])
        for name, s in compose()["services"].items()
        if "healthcheck" in s
    }
    assert "/readyz" in checks["gateway"] and "/health" in checks["actions"]


def test_replicas_and_migrations_in_compose():
    services = compose()["services"]
    assert {"postgres", "redis", "rasa", "actions", "gateway", "proxy", "migrate"} <= set(services)
    for name in ("rasa", "actions", "gateway"):
        assert services[name]["deploy"]["replicas"] == 2, name
    # One migration, finished before any gateway starts; never one per replica.
    assert services["migrate"]["command"] == ["python", "-m", "bot", "db", "upgrade"]
    assert "replicas" not in services["migrate"].get("deploy", {})
    assert services["gateway"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    job = next(doc for doc in manifests() if doc["kind"] == "Job")
    assert job["spec"]["parallelism"] == job["spec"]["completions"] == 1
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == ["db", "upgrade"]
    for service in services.values():
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), volume


def test_every_command_exists(capsys, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # what cli.main sets, undone afterwards
    commands = every_command()
    assert len(commands) >= 10
    for command in commands:
        match command:
            case ["python", "-m", "bot", *arguments]:
                with pytest.raises(SystemExit) as parsed:
                    cli.main([*arguments, "--help"])  # argparse: 0 for a real command
                assert parsed.value.code == 0, f"{command}: {capsys.readouterr().err}"
            case ["python", "-m", "scripts.actions_server", *arguments]:
                source = (ROOT / "scripts" / "actions_server.py").read_text()
                for flag in arguments[::2]:
                    assert f'"{flag}"' in source, f"{command}: {flag}"
            case ["python", "-m", "scripts.rasa_server", "run", *arguments]:
                options = dict(zip(arguments[::2], arguments[1::2], strict=True))
                assert (ROOT / options["--endpoints"]).is_file()
                assert (ROOT / options["--credentials"]).is_file()
                # Made by `make train`, not in git: the image must carry it.
                rasa_image = (DEPLOY / "Dockerfile.rasa").read_text()
                assert f"COPY {options['--model']} " in rasa_image
            case ["redis-server", *_]:
                pass
            case _:
                pytest.fail(f"a command this test does not know: {command}")


def test_the_images_copy_what_exists():
    for path in DEPLOY.glob("Dockerfile.*"):
        for line in path.read_text().splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    if not source.startswith("models/"):  # `make train` makes it
                        assert (ROOT / source).exists(), f"{path.name}: {line}"


def test_every_variable_is_one_the_code_or_the_readme_knows():
    used: set[str] = set()
    for path in deploy_files():
        used |= expanded(path)
    for service in compose()["services"].values():
        if str(service.get("image", "")).startswith("tolk-"):
            used |= set(service["environment"])
    for doc in manifests():
        used |= set(doc.get("data", {})) | set(doc.get("stringData", {}))
    for _, container in containers():
        used |= {variable["name"] for variable in container.get("env", [])}
    for line in (DEPLOY / "compose.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            used.add(line.partition("=")[0])
    ours = {name for name in used if OURS.match(name)}
    assert len(ours) > 20
    assert sorted(ours - known_variables()) == []


def test_rasa_gets_every_variable_its_files_expand():
    """Rasa refuses to start on a ${VARIABLE} it does not have (endpoints, credentials)."""
    wanted = expanded(DEPLOY / "endpoints.yml") | expanded(ROOT / "credentials.yml")
    assert "TOLK_NLG_URL" in wanted
    assert wanted <= set(compose()["services"]["rasa"]["environment"])
    config = next(doc for doc in manifests() if doc["kind"] == "ConfigMap")["data"]
    rasa = next(c for name, c in containers("Deployment") if name == "rasa")
    assert wanted <= set(config) | {variable["name"] for variable in rasa["env"]}
    secret = next(doc for doc in manifests() if doc["kind"] == "Secret")["stringData"]
    for variable in rasa["env"]:
        assert variable["valueFrom"]["secretKeyRef"]["key"] in secret


def test_every_gateway_gets_the_same_internal_secrets_and_the_redis_url():
    """Replicas must share the secrets (else each generates its own into var/secrets/)
    and Redis (else each keeps its own rate limits)."""
    shared = {"TOLK_RASA_SECRET", "TOLK_ACTIONS_SECRET", "TOLK_NLG_SECRET", "TOLK_ADMIN_TOKEN"}
    needed = shared | {"TOLK_REDIS_URL", "TOLK_DATABASE_URL", "TOLK_API_TOKEN"}
    assert needed <= set(compose()["services"]["gateway"]["environment"])
    secret = next(doc for doc in manifests() if doc["kind"] == "Secret")
    assert needed <= set(secret["stringData"])
    for name, container in containers():
        if name in ("gateway", "tolk-db-upgrade"):
            refs = {ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref}
            assert refs == {secret["metadata"]["name"]}, name
