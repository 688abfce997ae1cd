"""A bank peering with NetBox's demo network, written into the NetBox peer through its API with
pynetbox (the client the peer installs): the tenant group `partners` with a bank in it, its NOC
as a contact, the bank's ASN, and two BGP sessions (netbox-bgp) from two demo routers to it. Idempotent: what is
there already is found, not made again. Run with the peer's Python; reads NETBOX_URL and
NETBOX_TOKEN."""
import os

import pynetbox

nb = pynetbox.api(os.environ["NETBOX_URL"], token=os.environ["NETBOX_TOKEN"])


def one(endpoint, find, make):
    """The object `find` names, made from `find` and `make` when there is none."""
    found = endpoint.get(**find)
    return found if found else endpoint.create({**find, **make})


bank_tag = one(nb.extras.tags, {"slug": "bank"}, {"name": "bank"})
partners = one(nb.tenancy.tenant_groups, {"slug": "partners"}, {"name": "Partners"})
bank = one(nb.tenancy.tenants, {"slug": "example-bank"}, {"name": "Example Bank", "group": partners.id, "tags": [bank_tag.id]})
noc = one(nb.tenancy.contacts, {"name": "Example Bank NOC"}, {"title": "Network operations", "email": "noc@examplebank.example", "phone": "+1 212 555 0100"})
noc_role = one(nb.tenancy.contact_roles, {"slug": "noc"}, {"name": "NOC"})
if not nb.tenancy.contact_assignments.filter(object_type="tenancy.tenant", object_id=bank.id, contact_id=noc.id):
    nb.tenancy.contact_assignments.create({"object_type": "tenancy.tenant", "object_id": bank.id, "contact": noc.id, "role": noc_role.id, "priority": "primary"})
rir = nb.ipam.rirs.get(slug="rfc-6996") or nb.ipam.rirs.get(name="RFC 6996")
ours = one(nb.ipam.asns, {"asn": 64999}, {"rir": rir.id, "description": "the demo network's own"})
theirs = one(nb.ipam.asns, {"asn": 64512}, {"rir": rir.id, "tenant": bank.id, "description": "Example Bank"})

for name, router, local, remote in [
    ("Example Bank via akron", "dmi01-akron-rtr01", "198.51.100.1/31", "198.51.100.0/31"),
    ("Example Bank via albany", "dmi01-albany-rtr01", "198.51.100.3/31", "198.51.100.2/31"),
]:
    device = nb.dcim.devices.get(name=router)
    local_ip = one(nb.ipam.ip_addresses, {"address": local}, {"status": "active"})
    remote_ip = one(nb.ipam.ip_addresses, {"address": remote}, {"status": "active", "tenant": bank.id})
    one(
        nb.plugins.bgp.session,
        {"name": name},
        {
            "device": device.id, "site": device.site.id, "tenant": bank.id, "status": "active",
            "local_address": local_ip.id, "remote_address": remote_ip.id, "local_as": ours.id, "remote_as": theirs.id,
        },
    )
print("[netbox-bgp] Example Bank peers with", ", ".join(s.name for s in nb.plugins.bgp.session.all()))
