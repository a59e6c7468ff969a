//! Every bundled real history gets the verdict its source recorded.
//! Data: Porcupine's Jepsen etcd logs (MIT) and Knossos's cas-register
//! histories (EPL-1.0); see tests/data/*/LICENSE.

mod common;
use common::verdict;
use faultline_checkers::Validity::{Invalid, Valid};

#[test]
fn etcd_000() {
    verdict("jepsen-etcd/etcd_000.log", Invalid);
}
#[test]
fn etcd_001() {
    verdict("jepsen-etcd/etcd_001.log", Invalid);
}
#[test]
fn etcd_002() {
    verdict("jepsen-etcd/etcd_002.log", Valid);
}
#[test]
fn etcd_003() {
    verdict("jepsen-etcd/etcd_003.log", Invalid);
}
#[test]
fn etcd_004() {
    verdict("jepsen-etcd/etcd_004.log", Invalid);
}
#[test]
fn etcd_005() {
    verdict("jepsen-etcd/etcd_005.log", Valid);
}
#[test]
fn etcd_006() {
    verdict("jepsen-etcd/etcd_006.log", Invalid);
}
#[test]
fn etcd_007() {
    verdict("jepsen-etcd/etcd_007.log", Valid);
}
#[test]
fn etcd_008() {
    verdict("jepsen-etcd/etcd_008.log", Invalid);
}
#[test]
fn etcd_009() {
    verdict("jepsen-etcd/etcd_009.log", Invalid);
}
#[test]
fn etcd_010() {
    verdict("jepsen-etcd/etcd_010.log", Invalid);
}
#[test]
fn etcd_011() {
    verdict("jepsen-etcd/etcd_011.log", Invalid);
}
#[test]
fn etcd_012() {
    verdict("jepsen-etcd/etcd_012.log", Invalid);
}
#[test]
fn etcd_013() {
    verdict("jepsen-etcd/etcd_013.log", Invalid);
}
#[test]
fn etcd_014() {
    verdict("jepsen-etcd/etcd_014.log", Invalid);
}
#[test]
fn etcd_015() {
    verdict("jepsen-etcd/etcd_015.log", Invalid);
}
#[test]
fn etcd_016() {
    verdict("jepsen-etcd/etcd_016.log", Invalid);
}
#[test]
fn etcd_017() {
    verdict("jepsen-etcd/etcd_017.log", Invalid);
}
#[test]
fn etcd_018() {
    verdict("jepsen-etcd/etcd_018.log", Valid);
}
#[test]
fn etcd_019() {
    verdict("jepsen-etcd/etcd_019.log", Invalid);
}
#[test]
fn etcd_020() {
    verdict("jepsen-etcd/etcd_020.log", Invalid);
}
#[test]
fn etcd_021() {
    verdict("jepsen-etcd/etcd_021.log", Invalid);
}
#[test]
fn etcd_022() {
    verdict("jepsen-etcd/etcd_022.log", Invalid);
}
#[test]
fn etcd_023() {
    verdict("jepsen-etcd/etcd_023.log", Invalid);
}
#[test]
fn etcd_024() {
    verdict("jepsen-etcd/etcd_024.log", Invalid);
}
#[test]
fn knossos_good_cas_register_bug() {
    verdict("knossos-cas-register/good/cas-register-bug.edn", Valid);
}
#[test]
fn knossos_good_memstress3_11() {
    verdict("knossos-cas-register/good/memstress3-11.edn", Valid);
}
#[test]
fn knossos_good_memstress3_15() {
    verdict("knossos-cas-register/good/memstress3-15.edn", Valid);
}
#[test]
fn knossos_good_memstress3_19() {
    verdict("knossos-cas-register/good/memstress3-19.edn", Valid);
}
#[test]
fn knossos_good_memstress3_22() {
    verdict("knossos-cas-register/good/memstress3-22.edn", Valid);
}
#[test]
fn knossos_good_memstress3_26() {
    verdict("knossos-cas-register/good/memstress3-26.edn", Valid);
}
#[test]
fn knossos_good_memstress3_3() {
    verdict("knossos-cas-register/good/memstress3-3.edn", Valid);
}
#[test]
fn knossos_good_memstress3_33() {
    verdict("knossos-cas-register/good/memstress3-33.edn", Valid);
}
#[test]
fn knossos_good_memstress3_37() {
    verdict("knossos-cas-register/good/memstress3-37.edn", Valid);
}
#[test]
fn knossos_good_memstress3_40() {
    verdict("knossos-cas-register/good/memstress3-40.edn", Valid);
}
#[test]
fn knossos_good_memstress3_44() {
    verdict("knossos-cas-register/good/memstress3-44.edn", Valid);
}
#[test]
fn knossos_good_memstress3_48() {
    verdict("knossos-cas-register/good/memstress3-48.edn", Valid);
}
#[test]
fn knossos_good_memstress3_51() {
    verdict("knossos-cas-register/good/memstress3-51.edn", Valid);
}
#[test]
fn knossos_good_memstress3_55() {
    verdict("knossos-cas-register/good/memstress3-55.edn", Valid);
}
#[test]
fn knossos_good_memstress3_59() {
    verdict("knossos-cas-register/good/memstress3-59.edn", Valid);
}
#[test]
fn knossos_good_memstress3_62() {
    verdict("knossos-cas-register/good/memstress3-62.edn", Valid);
}
#[test]
fn knossos_good_memstress3_66() {
    verdict("knossos-cas-register/good/memstress3-66.edn", Valid);
}
#[test]
fn knossos_good_memstress3_7() {
    verdict("knossos-cas-register/good/memstress3-7.edn", Valid);
}
#[test]
fn knossos_good_memstress3_73() {
    verdict("knossos-cas-register/good/memstress3-73.edn", Valid);
}
#[test]
fn knossos_good_memstress3_77() {
    verdict("knossos-cas-register/good/memstress3-77.edn", Valid);
}
#[test]
fn knossos_good_memstress3_80() {
    verdict("knossos-cas-register/good/memstress3-80.edn", Valid);
}
#[test]
fn knossos_good_memstress3_84() {
    verdict("knossos-cas-register/good/memstress3-84.edn", Valid);
}
#[test]
fn knossos_good_memstress3_88() {
    verdict("knossos-cas-register/good/memstress3-88.edn", Valid);
}
#[test]
fn knossos_good_memstress3_91() {
    verdict("knossos-cas-register/good/memstress3-91.edn", Valid);
}
#[test]
fn knossos_good_memstress3_95() {
    verdict("knossos-cas-register/good/memstress3-95.edn", Valid);
}
#[test]
fn knossos_good_memstress3_99() {
    verdict("knossos-cas-register/good/memstress3-99.edn", Valid);
}
#[test]
fn knossos_good_mongodb_v0_ack_rollback_10() {
    verdict(
        "knossos-cas-register/good/mongodb-v0-ack-rollback-10.edn",
        Valid,
    );
}
#[test]
fn knossos_good_mongodb_v0_ack_rollback_4() {
    verdict(
        "knossos-cas-register/good/mongodb-v0-ack-rollback-4.edn",
        Valid,
    );
}
#[test]
fn knossos_bad_cas_failure() {
    verdict("knossos-cas-register/bad/cas-failure.edn", Invalid);
}
#[test]
fn knossos_bad_immediate_failure() {
    verdict("knossos-cas-register/bad/immediate-failure.edn", Invalid);
}
#[test]
fn knossos_bad_rethink_fail_minimal() {
    verdict("knossos-cas-register/bad/rethink-fail-minimal.edn", Invalid);
}

/// The list above covers every file VERDICTS.tsv names.
#[test]
fn every_listed_file_has_a_test() {
    let this = include_str!("verdicts.rs");
    for dir in ["jepsen-etcd", "knossos-cas-register"] {
        let tsv = std::fs::read_to_string(common::data(&format!("{dir}/VERDICTS.tsv"))).unwrap();
        for line in tsv.lines().filter(|l| !l.is_empty()) {
            let file = line.split('\t').next().unwrap();
            assert!(
                this.contains(&format!("\"{dir}/{file}\"")),
                "no test for {dir}/{file}"
            );
        }
    }
}

#[test]
fn an_interrupt_stops_a_search_with_unknown() {
    use faultline_checkers::linear;
    use faultline_checkers::model::{CasRegister, Scalar};
    use faultline_checkers::synth::{register_history, RegisterSpec};
    use faultline_checkers::Validity;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let h = register_history(
        &RegisterSpec {
            ops: 2000,
            processes: 30,
            keys: 0,
            info: 0.3,
            values: 5,
            cas: true,
        },
        1,
    );
    let opts = linear::Options::default().with_interrupt(Some(Arc::new(AtomicBool::new(true))));
    let a = linear::check(&CasRegister::new(Scalar::Null), &h, &opts).unwrap();
    assert_eq!(a.valid, Validity::Unknown, "{a:?}");
    assert!(
        format!("{:?}", a.unknown).contains("interrupted"),
        "{:?}",
        a.unknown
    );
}
