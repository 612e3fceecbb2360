//! The TCP connection states the flow layer needs (Suricata's `stream-tcp` states), driven
//! by flags and acknowledgement numbers. Reassembly lives in `stream/`; this tracks only
//! what decides a flow's state and timeout.

use crate::decode::{tcp_flags as f, TcpHeader};

/// Suricata's TCP session states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TcpState {
    /// No session: no SYN seen (mid-stream pick-up is off, as in Suricata's default).
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    TimeWait,
    LastAck,
    CloseWait,
    Closing,
    Closed,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait1 => "fin_wait1",
            TcpState::FinWait2 => "fin_wait2",
            TcpState::TimeWait => "time_wait",
            TcpState::LastAck => "last_ack",
            TcpState::CloseWait => "close_wait",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }

    /// The flow-level state Suricata derives from it.
    pub fn flow_state(self) -> super::FlowState {
        use super::FlowState;
        match self {
            TcpState::None | TcpState::SynSent | TcpState::SynRecv => FlowState::New,
            TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::Closing
            | TcpState::CloseWait => FlowState::Established,
            TcpState::LastAck | TcpState::TimeWait | TcpState::Closed => FlowState::Closed,
        }
    }
}

/// Per-flow TCP tracking.
#[derive(Clone, Copy, Debug)]
pub struct TcpTracker {
    pub state: TcpState,
    /// Sequence number that acknowledges the client's / server's FIN, once sent.
    client_fin_ack: Option<u32>,
    server_fin_ack: Option<u32>,
    /// Initial sequence number of the client's SYN (tells a new SYN from a retransmit).
    client_isn: u32,
    /// Per side (client, server): initial sequence number and the next one expected, as
    /// Suricata's stream engine keeps them (`isn`, `next_seq`; 0 until the side's SYN).
    isn: [u32; 2],
    next_seq: [u32; 2],
    /// Per side: the sequence number after its FIN, until the other side acknowledges it
    /// (Suricata counts a FIN in `next_seq` only then).
    fin_next: [Option<u32>; 2],
    /// The server closed first and the client's FIN came without an ACK: Suricata's
    /// CLOSING rather than TIME_WAIT.
    client_fin_without_ack: bool,
}

impl Default for TcpTracker {
    fn default() -> Self {
        TcpTracker {
            state: TcpState::None,
            client_fin_ack: None,
            server_fin_ack: None,
            client_isn: 0,
            isn: [0; 2],
            next_seq: [0; 2],
            fin_next: [None; 2],
            client_fin_without_ack: false,
        }
    }
}

fn seq_geq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

impl TcpTracker {
    /// Whether Suricata's session state is past TIME_WAIT (LAST_ACK, CLOSE_WAIT, CLOSING
    /// or CLOSED), the states in which it reassembles raw stream data whatever its size
    /// and takes a SYN as a new session. Suricata names the closing states from the
    /// server's side (the client's FIN moves an established session to CLOSE_WAIT, the
    /// server's to FIN_WAIT1); these states follow the client, so a client that closed
    /// first is past TIME_WAIT from its FIN on, one whose server closed first only once
    /// the session is closed (or CLOSING: its FIN came without an ACK).
    pub fn past_time_wait(&self) -> bool {
        match self.state {
            TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::TimeWait
            | TcpState::Closing
            | TcpState::Closed => true,
            TcpState::LastAck => self.client_fin_without_ack,
            TcpState::None
            | TcpState::SynSent
            | TcpState::SynRecv
            | TcpState::Established
            | TcpState::CloseWait => false,
        }
    }

    /// Whether this packet acknowledges the other side's FIN.
    fn acks_peer_fin(&self, tcp: &TcpHeader, to_server: bool) -> bool {
        let fin = if to_server {
            self.server_fin_ack
        } else {
            self.client_fin_ack
        };
        fin.is_some_and(|s| seq_geq(tcp.ack, s))
    }

    /// Whether a TCP session exists (Suricata's `ssn != NULL`): without one, flags are not
    /// accumulated and the flow stays "new".
    pub fn has_session(&self) -> bool {
        self.state != TcpState::None
    }

    /// Whether a packet should end this flow and start a new one on the same tuple
    /// (Suricata's `TcpSessionPacketSsnReuse`): a SYN (no ACK, RST or FIN) on a flow
    /// without a session, or on one in LAST_ACK, CLOSE_WAIT, CLOSING or CLOSED; a
    /// retransmission of the client's SYN is not a reuse.
    pub fn is_reuse(&self, tcp: &TcpHeader, to_server: bool) -> bool {
        if tcp.flags & (f::SYN | f::ACK | f::RST | f::FIN) != f::SYN {
            return false;
        }
        match self.state {
            TcpState::None => true,
            _ if to_server && tcp.seq == self.client_isn => false,
            _ => self.past_time_wait(),
        }
    }

    /// Per side (client, server), the sequence space used so far (`next_seq - isn`:
    /// the SYN, the data in order, and the FIN once acknowledged), for `stream_size`;
    /// `None` without a session.
    pub fn stream_sizes(&self) -> Option<(u32, u32)> {
        self.has_session().then(|| {
            (
                self.next_seq[0].wrapping_sub(self.isn[0]),
                self.next_seq[1].wrapping_sub(self.isn[1]),
            )
        })
    }

    /// Moves a side's `next_seq` over a packet that continues its stream (starts at or
    /// before it, ends after it); a SYN sets the side's initial sequence number; the
    /// other side's FIN counts once this packet acknowledges it.
    fn track_sequence(&mut self, tcp: &TcpHeader, side: usize, payload_len: usize) {
        let other = 1 - side;
        if tcp.flags & f::ACK != 0 {
            if let Some(after_fin) = self.fin_next[other] {
                if seq_geq(tcp.ack, after_fin) {
                    self.next_seq[other] = after_fin;
                    self.fin_next[other] = None;
                }
            }
        }
        if tcp.flags & f::SYN != 0 {
            self.isn[side] = tcp.seq;
            self.next_seq[side] = tcp.seq.wrapping_add(1);
            return;
        }
        let end = tcp.seq.wrapping_add(payload_len as u32);
        let next = self.next_seq[side];
        if seq_geq(next, tcp.seq) && !seq_geq(next, end) {
            self.next_seq[side] = end;
        }
        if tcp.flags & f::FIN != 0 && self.next_seq[side] == end {
            self.fin_next[side] = Some(end.wrapping_add(1));
        }
    }

    /// Advances the state machine with one packet. With `midstream` (Suricata's
    /// `stream.midstream`), a flow without a session is picked up: a SYN/ACK starts it in
    /// SYN_RECV and reverses the flow (returns `true`: its sender is the server), any other
    /// ACK starts it established.
    pub fn update(
        &mut self,
        tcp: &TcpHeader,
        to_server: bool,
        payload_len: usize,
        midstream: bool,
    ) -> bool {
        let flags = tcp.flags;
        let syn = flags & f::SYN != 0;
        let ack = flags & f::ACK != 0;
        let fin = flags & f::FIN != 0;
        if flags & f::RST != 0 {
            if self.state != TcpState::None {
                self.state = TcpState::Closed;
            }
            return false;
        }
        self.track_sequence(tcp, usize::from(!to_server), payload_len);
        // The sequence number that acknowledges a FIN: seq + data + 1.
        let fin_ack = tcp
            .seq
            .wrapping_add(payload_len as u32)
            .wrapping_add(u32::from(syn))
            .wrapping_add(1);
        match self.state {
            TcpState::None => {
                if syn && !ack {
                    // The SYN's sender is the flow's client, as it sent the first packet or
                    // (a SYN on a session-less flow) started a new flow.
                    self.state = TcpState::SynSent;
                    self.client_isn = tcp.seq;
                } else if syn && ack && midstream {
                    self.state = TcpState::SynRecv;
                    return true;
                } else if ack && !syn && midstream {
                    self.state = TcpState::Established;
                    if fin {
                        self.state = if to_server {
                            TcpState::FinWait1
                        } else {
                            TcpState::CloseWait
                        };
                    }
                }
            }
            TcpState::SynSent => {
                if syn && ack && !to_server {
                    self.state = TcpState::SynRecv;
                }
            }
            TcpState::SynRecv => {
                if to_server && ack && !syn {
                    self.state = TcpState::Established;
                    if fin {
                        self.client_fin_ack = Some(fin_ack);
                        self.state = TcpState::FinWait1;
                    }
                }
            }
            TcpState::Established => {
                if fin {
                    if to_server {
                        self.client_fin_ack = Some(fin_ack);
                        self.state = TcpState::FinWait1;
                    } else {
                        self.server_fin_ack = Some(fin_ack);
                        self.state = TcpState::CloseWait;
                    }
                }
            }
            TcpState::FinWait1 => {
                if !to_server {
                    let acks_fin = ack && self.client_fin_ack.is_some_and(|s| seq_geq(tcp.ack, s));
                    if fin {
                        self.server_fin_ack = Some(fin_ack);
                        self.state = if acks_fin {
                            TcpState::TimeWait
                        } else {
                            TcpState::Closing
                        };
                    } else if acks_fin {
                        self.state = TcpState::FinWait2;
                    }
                }
            }
            TcpState::FinWait2 => {
                if !to_server && fin {
                    self.server_fin_ack = Some(fin_ack);
                    self.state = TcpState::TimeWait;
                }
            }
            TcpState::CloseWait => {
                if to_server && fin {
                    self.client_fin_ack = Some(fin_ack);
                    self.client_fin_without_ack = !ack;
                    self.state = TcpState::LastAck;
                }
            }
            TcpState::Closing => {
                if ack && self.acks_peer_fin(tcp, to_server) {
                    self.state = TcpState::TimeWait;
                }
            }
            // The last ACK of the teardown closes the session.
            TcpState::LastAck => {
                if !to_server && ack && self.acks_peer_fin(tcp, to_server) {
                    self.state = TcpState::Closed;
                }
            }
            TcpState::TimeWait => {
                if ack && self.acks_peer_fin(tcp, to_server) {
                    self.state = TcpState::Closed;
                }
            }
            TcpState::Closed => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u8, seq: u32, ack: u32) -> TcpHeader {
        TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags,
            window: 0,
            tfo: false,
        }
    }

    #[test]
    fn handshake_data_and_fin_teardown() {
        let mut t = TcpTracker::default();
        t.update(&seg(f::SYN, 100, 0), true, 0, false);
        assert_eq!(t.state, TcpState::SynSent);
        t.update(&seg(f::SYN | f::ACK, 500, 101), false, 0, false);
        assert_eq!(t.state, TcpState::SynRecv);
        t.update(&seg(f::ACK, 101, 501), true, 0, false);
        assert_eq!(t.state, TcpState::Established);
        t.update(&seg(f::ACK | f::PSH, 101, 501), true, 10, false);
        t.update(&seg(f::FIN | f::ACK, 111, 501), true, 0, false);
        assert_eq!(t.state, TcpState::FinWait1);
        t.update(&seg(f::FIN | f::ACK, 501, 112), false, 0, false);
        assert_eq!(t.state, TcpState::TimeWait);
        assert_eq!(t.state.flow_state(), crate::flow::FlowState::Closed);
        t.update(&seg(f::ACK, 112, 502), true, 0, false);
        assert_eq!(t.state, TcpState::Closed, "the last ACK closes the session");
    }

    #[test]
    fn server_closes_first() {
        let mut t = TcpTracker {
            state: TcpState::Established,
            ..Default::default()
        };
        t.update(&seg(f::FIN | f::ACK, 900, 50), false, 0, false);
        assert_eq!(t.state, TcpState::CloseWait);
        t.update(&seg(f::FIN | f::ACK, 50, 901), true, 0, false);
        assert_eq!(t.state, TcpState::LastAck);
        t.update(&seg(f::ACK, 901, 51), false, 0, false);
        assert_eq!(t.state, TcpState::Closed);
    }

    #[test]
    fn rst_closes_and_midstream_stays_none() {
        let mut t = TcpTracker::default();
        t.update(&seg(f::ACK | f::PSH, 1, 1), true, 5, false);
        assert_eq!(t.state, TcpState::None);
        t.update(&seg(f::SYN | f::ACK, 1, 1), false, 0, false);
        assert_eq!(
            t.state,
            TcpState::None,
            "SYN/ACK first: no session without midstream"
        );
        let mut t = TcpTracker {
            state: TcpState::Established,
            ..Default::default()
        };
        t.update(&seg(f::RST, 1, 0), false, 0, false);
        assert_eq!(t.state, TcpState::Closed);
    }

    #[test]
    fn new_syn_on_closed_session_is_reuse() {
        let mut t = TcpTracker::default();
        assert!(
            t.is_reuse(&seg(f::SYN, 1, 0), true),
            "no session: any SYN starts a new flow"
        );
        t.update(&seg(f::SYN, 100, 0), true, 0, false);
        assert!(
            !t.is_reuse(&seg(f::SYN, 200, 0), true),
            "SYN_SENT is not reusable"
        );
        t.state = TcpState::Closed;
        assert!(!t.is_reuse(&seg(f::SYN, 100, 0), true), "retransmitted SYN");
        assert!(t.is_reuse(&seg(f::SYN, 7000, 0), true));
        assert!(
            t.is_reuse(&seg(f::SYN, 100, 0), false),
            "the server's SYN has no ISN check"
        );
        assert!(!t.is_reuse(&seg(f::SYN | f::ACK, 7000, 0), true));
        // Suricata's states are named from the server's side: the server closed first
        // (its FIN_WAIT1/2), or the client's FIN came after it with an ACK (its
        // TIME_WAIT): no reuse; the client closed first (CLOSE_WAIT, LAST_ACK): reuse.
        t.state = TcpState::CloseWait;
        assert!(!t.is_reuse(&seg(f::SYN, 7000, 0), true), "FIN_WAIT1");
        t.state = TcpState::LastAck;
        assert!(!t.is_reuse(&seg(f::SYN, 7000, 0), true), "TIME_WAIT");
        t.client_fin_without_ack = true;
        assert!(t.is_reuse(&seg(f::SYN, 7000, 0), true), "CLOSING");
        for state in [TcpState::FinWait1, TcpState::FinWait2, TcpState::TimeWait] {
            t.state = state;
            assert!(t.is_reuse(&seg(f::SYN, 7000, 0), true), "{state:?}");
        }
    }

    #[test]
    fn midstream_pickups() {
        let mut t = TcpTracker::default();
        assert!(
            t.update(&seg(f::SYN | f::ACK, 5, 6), true, 0, true),
            "SYN/ACK first reverses the flow"
        );
        assert_eq!(t.state, TcpState::SynRecv);
        let mut t = TcpTracker::default();
        assert!(!t.update(&seg(f::ACK | f::PSH, 5, 6), true, 10, true));
        assert_eq!(t.state, TcpState::Established);
    }
}
