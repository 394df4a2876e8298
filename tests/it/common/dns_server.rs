//! An in-process authoritative DNS server on 127.0.0.1 for the `check --domain` tests,
//! built on hickory-server: a DNSSEC-signed lab zone `test.` (its key is the trust
//! anchor the tests hand to `--trust-anchor`), unsigned child zones delegated from it
//! without DS records (provably insecure), and RRsets whose signatures are corrupted
//! after signing (bogus).
//!
//! hickory's catalog sends every query to the most specific zone it serves, but a DS
//! query at a child's apex belongs to the parent (RFC 4035 §3.1.4.1): the child is
//! wrapped in [`ChildZone`], which passes DS-at-apex on to the parent zone.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::dnssec::NxProofKind;
use hickory_server::proto::dnssec::crypto::EcdsaSigningKey;
use hickory_server::proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
use hickory_server::proto::dnssec::{Algorithm, DnssecSigner, SigningKey};
use hickory_server::proto::rr::rdata::{self, MX, SOA, TLSA, TXT};
use hickory_server::proto::rr::{
    LowerName, Name, RData, Record, RecordSet, RecordType, RrKey, TSigResponseContext,
};
use hickory_server::server::{Request, RequestInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{
    AuthLookup, AxfrPolicy, Catalog, LookupControlFlow, LookupOptions, Nsec3QueryInfo, ZoneHandler,
    ZoneType,
};
use tempfile::TempDir;

/// The lab's signed zone: every test domain lives under it.
pub const LAB: &str = "test.";

pub fn name(s: &str) -> Name {
    Name::from_ascii(s).expect("name")
}

fn rec(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

/// Records of one zone under construction.
#[derive(Default, Clone)]
pub struct Zone {
    records: Vec<Record>,
}

impl Zone {
    pub fn a(mut self, owner: &str, ip: IpAddr) -> Self {
        let data = match ip {
            IpAddr::V4(v4) => RData::A(rdata::A(v4)),
            IpAddr::V6(v6) => RData::AAAA(rdata::AAAA(v6)),
        };
        self.records.push(rec(owner, data));
        self
    }

    pub fn mx(mut self, owner: &str, preference: u16, host: &str) -> Self {
        self.records
            .push(rec(owner, RData::MX(MX::new(preference, name(host)))));
        self
    }

    pub fn tlsa(
        mut self,
        owner: &str,
        usage: u8,
        selector: u8,
        matching: u8,
        data: Vec<u8>,
    ) -> Self {
        let t = TLSA::new(usage.into(), selector.into(), matching.into(), data);
        self.records.push(rec(owner, RData::TLSA(t)));
        self
    }

    pub fn txt(mut self, owner: &str, text: &str) -> Self {
        self.records
            .push(rec(owner, RData::TXT(TXT::new(vec![text.to_owned()]))));
        self
    }

    /// A delegation to an unsigned child zone (NS and glue, no DS).
    pub fn delegate(mut self, child: &str) -> Self {
        let ns = format!("ns.{child}");
        self.records
            .push(rec(child, RData::NS(rdata::NS(name(&ns)))));
        self.records
            .push(rec(&ns, RData::A(rdata::A([127, 0, 0, 1].into()))));
        self
    }
}

/// The running server and the trust anchor file for `--trust-anchor`.
pub struct Lab {
    pub addr: SocketAddr,
    pub anchor: PathBuf,
    _dir: TempDir,
}

fn zone_handler(origin: &str, zone: Zone, signer: Option<DnssecSigner>) -> InMemoryZoneHandler {
    let mut records: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
    let soa = rec(
        origin,
        RData::SOA(SOA::new(
            name(&format!("ns.{origin}")),
            name(&format!("hostmaster.{origin}")),
            2026112801,
            3600,
            600,
            86400,
            300,
        )),
    );
    let ns = rec(origin, RData::NS(rdata::NS(name(&format!("ns.{origin}")))));
    let glue = rec(
        &format!("ns.{origin}"),
        RData::A(rdata::A([127, 0, 0, 1].into())),
    );
    for r in [soa, ns, glue].into_iter().chain(zone.records) {
        let key = RrKey::new(LowerName::new(&r.name), r.record_type());
        records
            .entry(key)
            .or_insert_with(|| RecordSet::new(r.name.clone(), r.record_type(), 2026112801))
            .insert(r, 2026112801);
    }
    let mut h = InMemoryZoneHandler::new(
        name(origin),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
        signer.as_ref().map(|_| NxProofKind::Nsec),
    )
    .expect("zone");
    if let Some(s) = signer {
        h.add_zone_signing_key_mut(s).expect("key");
        h.secure_zone_mut().expect("sign");
    }
    h
}

/// Flips a byte of every RRSIG over (`owner`, `rtype`): the zone stays signed, the
/// signatures no longer verify.
fn corrupt(h: &mut InMemoryZoneHandler, owner: &str, rtype: RecordType) {
    let key = RrKey::new(LowerName::new(&name(owner)), rtype);
    let set = h.records_get_mut().get_mut(&key).expect("rrset to corrupt");
    let set = Arc::make_mut(set);
    let bad: Vec<Record> = set
        .rrsigs()
        .iter()
        .map(|r| {
            let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &r.data else {
                return r.clone();
            };
            let mut bytes = sig.sig().to_vec();
            if let Some(b) = bytes.get_mut(10) {
                *b ^= 0x5a;
            }
            let data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                sig.input().clone(),
                bytes,
            )));
            Record::from_rdata(r.name.clone(), r.ttl, data)
        })
        .collect();
    assert!(!bad.is_empty(), "{owner} {rtype} has no RRSIG");
    set.set_rrsigs(bad);
}

/// Serves the signed lab zone `test.` with `lab`'s records, the unsigned `children`
/// (delegated in `lab` with [`Zone::delegate`]), and corrupts the signatures of the
/// `bogus` RRsets. Runs until the test process ends.
pub fn serve(lab: Zone, children: Vec<(&str, Zone)>, bogus: &[(&str, RecordType)]) -> Lab {
    let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256).expect("keygen");
    let key = EcdsaSigningKey::from_pkcs8(&pkcs8, Algorithm::ECDSAP256SHA256).expect("key");
    let public = key.to_public_key().expect("public key");
    let dnskey = DNSKEY::from_key(&public);
    let anchor_line = Record::from_rdata(
        name(LAB),
        3600,
        RData::DNSSEC(DNSSECRData::DNSKEY(dnskey.clone())),
    )
    .to_string();
    let signer = DnssecSigner::new(dnskey, Box::new(key), name(LAB), Duration::from_secs(86400));
    let mut parent = zone_handler(LAB, lab, Some(signer));
    for (owner, rtype) in bogus {
        corrupt(&mut parent, owner, *rtype);
    }
    let parent: Arc<dyn ZoneHandler> = Arc::new(parent);
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&name(LAB)), vec![Arc::clone(&parent)]);
    for (origin, zone) in children {
        let child = ChildZone {
            inner: zone_handler(origin, zone, None),
        };
        catalog.upsert(
            LowerName::new(&name(origin)),
            vec![Arc::new(child), Arc::clone(&parent)],
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let anchor = dir.path().join("lab-anchor.key");
    std::fs::write(&anchor, format!("{anchor_line}\n")).expect("anchor");

    // DNS wants UDP and TCP on one port. The kernel picks a free UDP port, but its TCP twin
    // may be taken by another test's listener at that moment: try again with another port.
    let (udp, tcp, addr) = (0..100)
        .find_map(|_| {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let addr = udp.local_addr().ok()?;
            let tcp = std::net::TcpListener::bind(addr).ok()?;
            Some((udp, tcp, addr))
        })
        .expect("a free UDP+TCP port pair on 127.0.0.1");
    udp.set_nonblocking(true).expect("nonblocking");
    tcp.set_nonblocking(true).expect("nonblocking");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let mut server = Server::new(catalog);
            server.register_socket(tokio::net::UdpSocket::from_std(udp).expect("udp"));
            server.register_listener(
                tokio::net::TcpListener::from_std(tcp).expect("tcp"),
                Duration::from_secs(5),
                4096,
            );
            let _ = ready_tx.send(());
            let _ = server.block_until_done().await;
        });
    });
    ready_rx.recv().expect("dns server started");
    Lab {
        addr,
        anchor,
        _dir: dir,
    }
}

/// An unsigned child zone that leaves DS queries at its apex to the parent zone
/// behind it in the catalog's chain.
struct ChildZone {
    inner: InMemoryZoneHandler,
}

#[async_trait::async_trait]
impl ZoneHandler for ChildZone {
    fn zone_type(&self) -> ZoneType {
        self.inner.zone_type()
    }

    fn axfr_policy(&self) -> AxfrPolicy {
        self.inner.axfr_policy()
    }

    fn origin(&self) -> &LowerName {
        self.inner.origin()
    }

    async fn lookup(
        &self,
        name: &LowerName,
        rtype: RecordType,
        request_info: Option<&RequestInfo<'_>>,
        lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        if rtype == RecordType::DS && name == self.inner.origin() {
            return LookupControlFlow::Skip;
        }
        self.inner
            .lookup(name, rtype, request_info, lookup_options)
            .await
    }

    async fn search(
        &self,
        request: &Request,
        lookup_options: LookupOptions,
    ) -> (LookupControlFlow<AuthLookup>, Option<TSigResponseContext>) {
        if let Ok(info) = request.request_info()
            && info.query.query_type() == RecordType::DS
            && info.query.name() == self.inner.origin()
        {
            return (LookupControlFlow::Skip, None);
        }
        self.inner.search(request, lookup_options).await
    }

    async fn nsec_records(
        &self,
        name: &LowerName,
        lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        self.inner.nsec_records(name, lookup_options).await
    }

    async fn nsec3_records(
        &self,
        info: Nsec3QueryInfo<'_>,
        lookup_options: LookupOptions,
    ) -> LookupControlFlow<AuthLookup> {
        self.inner.nsec3_records(info, lookup_options).await
    }

    fn nx_proof_kind(&self) -> Option<&NxProofKind> {
        self.inner.nx_proof_kind()
    }
}
