"""fleet.yaml `environments.<name>.signatures`: required signed commits and the trusted GPG keys, their
validation, and which signing keys `Signatures.trusts`."""

from __future__ import annotations

from hub.fleet import Signatures
from tests.hub.fleet.conftest import fleet_data

FINGERPRINT = "0F1E2D3C4B5A69788796A5B4C3D2E1F00A1B2C3D"
KEY_ID = FINGERPRINT[-16:]
PREFIX = "fleet.yaml: spec.environments.production.signatures"
EXPECTED = ("expected a GPG key fingerprint (40 hex digits) or long key id (16 hex digits), as `gpg --list-keys "
            "--keyid-format long` prints them (a 0x prefix and spaces are ignored), found")


def with_signatures(signatures: object) -> dict:
    data = fleet_data()
    data["spec"]["environments"]["production"]["signatures"] = signatures
    return data


def test_signatures_are_off_by_default(load) -> None:
    fleet = load(fleet_data())
    assert fleet.environments["production"].signatures == Signatures(required=False, trusted_keys=())
    assert load(with_signatures({})).environments["production"].signatures == Signatures()


def test_trusted_keys_are_normalised(load) -> None:
    spaced = " ".join(FINGERPRINT[index:index + 4] for index in range(0, 40, 4))  # as gpg --fingerprint prints it
    keys = [FINGERPRINT.lower(), "0x" + KEY_ID, "0X" + FINGERPRINT, spaced, "1111 2222 3333 4444"]
    signatures = load(with_signatures({"required": True, "trustedKeys": keys})).environments["production"].signatures
    assert signatures == Signatures(required=True, trusted_keys=(FINGERPRINT, KEY_ID, "1111222233334444"))
    assert load(with_signatures({"trustedKeys": [KEY_ID]})).environments["production"].signatures == \
        Signatures(required=False, trusted_keys=(KEY_ID,))


def test_bad_keys_are_named_with_the_fix(errors) -> None:
    signatures = {"required": "yes", "trustedKeys": ["3AFDEB23", "4AEE 18F8 3AFD EB2", "0xZZ", FINGERPRINT + "0", 7],
                  "trusted": []}
    assert errors(with_signatures(signatures)) == [
        f'{PREFIX}.trusted: unknown field "trusted" (did you mean "trustedKeys"?); expected one of: required, '
        "trustedKeys",
        f'{PREFIX}.required: expected true or false, found "yes" (a string) (write true or false without quotes)',
        f'{PREFIX}.trustedKeys[0]: {EXPECTED} "3AFDEB23" (a string): 8 hex digits; a fingerprint has 40, a long key '
        "id 16 (short key ids are refused: they are easy to forge)",
        f'{PREFIX}.trustedKeys[1]: {EXPECTED} "4AEE 18F8 3AFD EB2" (a string): 15 hex digits; a fingerprint has 40, '
        "a long key id 16 (short key ids are refused: they are easy to forge)",
        f'{PREFIX}.trustedKeys[2]: {EXPECTED} "0xZZ" (a string): not hexadecimal',
        f'{PREFIX}.trustedKeys[3]: {EXPECTED} "{FINGERPRINT}0" (a string): 41 hex digits; a fingerprint has 40, a '
        "long key id 16",
        f"{PREFIX}.trustedKeys[4]: {EXPECTED} 7 (an integer): quote the key, YAML reads 0x... and keys of digits "
        "only as numbers",
    ]


def test_an_unquoted_hex_key_is_a_number_and_says_so(errors) -> None:
    data = "\n".join(["apiVersion: fleetline.io/v1alpha1", "kind: Fleet", "metadata: {name: fleet}", "spec:",
                      "  environments:", "    production:", "      signatures:",
                      "        trustedKeys: [0x3AFDEB234AEE18F8]"])
    assert errors(data) == [
        f"{PREFIX}.trustedKeys[0]: {EXPECTED} 4250812160121116920 (an integer): quote the key, YAML reads 0x... and "
        "keys of digits only as numbers"]


def test_required_signatures_need_a_trusted_key(errors) -> None:
    assert errors(with_signatures({"required": True})) == [
        f"{PREFIX}.trustedKeys: signatures are required but no key is trusted, so no commit could ever be deployed; "
        "expected a list of GPG key fingerprints (40 hex digits) or long key ids (16 hex digits)"]
    assert errors(with_signatures({"required": True, "trustedKeys": "ABCD"})) == [
        f'{PREFIX}.trustedKeys: expected a list of GPG key fingerprints or key ids, found "ABCD" (a string)']
    assert errors(with_signatures(["ABCD"])) == [
        f"{PREFIX}: expected a mapping {{required, trustedKeys}}, found a list"]


def test_trusts_matches_fingerprints_and_key_ids_in_any_case() -> None:
    by_fingerprint = Signatures(required=True, trusted_keys=(FINGERPRINT,))
    by_key_id = Signatures(required=True, trusted_keys=(KEY_ID,))
    for signatures in (by_fingerprint, by_key_id):
        assert signatures.trusts(FINGERPRINT)
        assert signatures.trusts(FINGERPRINT.lower())
        assert signatures.trusts("0x" + KEY_ID)
        assert signatures.trusts(" ".join([KEY_ID[:8], KEY_ID[8:]]))
    other = "1" * 40
    assert not by_fingerprint.trusts(other)
    assert not by_key_id.trusts(other[-16:])
    assert not by_fingerprint.trusts(FINGERPRINT[-8:])  # a short id is never enough
    assert not by_fingerprint.trusts("")
    assert not Signatures().trusts(FINGERPRINT)
