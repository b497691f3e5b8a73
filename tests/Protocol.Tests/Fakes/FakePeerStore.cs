using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>An in-memory peer store that also remembers each address's TTL and every latency sample, for assertions.</summary>
public sealed class FakePeerStore : IPeerStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<PeerId, Dictionary<Multiaddr, TimeSpan>> _addresses = [];
    private readonly Dictionary<PeerId, PublicKey> _keys = [];
    private readonly Dictionary<PeerId, IReadOnlyList<string>> _protocols = [];
    private readonly Dictionary<PeerId, List<TimeSpan>> _latencies = [];
    private readonly Dictionary<(PeerId, string), string> _metadata = [];
    private readonly Dictionary<PeerId, (ulong Seq, byte[] Envelope)> _records = [];

    public IReadOnlyList<PeerId> Peers
    {
        get
        {
            lock (_lock)
            {
                return [.. _addresses.Keys.Union(_keys.Keys)];
            }
        }
    }

    public void AddAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl)
    {
        lock (_lock)
        {
            var known = _addresses.TryGetValue(peer, out var existing) ? existing : _addresses[peer] = [];
            foreach (var address in addresses)
            {
                known[address] = known.TryGetValue(address, out var current) && current > ttl ? current : ttl;
            }
        }
    }

    public void SetAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl)
    {
        lock (_lock)
        {
            _addresses[peer] = addresses.ToDictionary(address => address, _ => ttl);
        }
    }

    public IReadOnlyList<Multiaddr> GetAddresses(PeerId peer)
    {
        lock (_lock)
        {
            return _addresses.TryGetValue(peer, out var known) ? [.. known.Keys] : [];
        }
    }

    public TimeSpan? GetAddressTtl(PeerId peer, Multiaddr address)
    {
        lock (_lock)
        {
            return _addresses.TryGetValue(peer, out var known) && known.TryGetValue(address, out var ttl) ? ttl : null;
        }
    }

    public void AddPublicKey(PeerId peer, PublicKey key)
    {
        if (!peer.Matches(key))
        {
            throw new ArgumentException("key does not match the peer id", nameof(key));
        }

        lock (_lock)
        {
            _keys[peer] = key;
        }
    }

    public PublicKey? GetPublicKey(PeerId peer)
    {
        lock (_lock)
        {
            return _keys.GetValueOrDefault(peer);
        }
    }

    public void SetProtocols(PeerId peer, IEnumerable<string> protocols)
    {
        lock (_lock)
        {
            _protocols[peer] = [.. protocols];
        }
    }

    public IReadOnlyList<string> GetProtocols(PeerId peer)
    {
        lock (_lock)
        {
            return _protocols.GetValueOrDefault(peer) ?? [];
        }
    }

    public void RecordLatency(PeerId peer, TimeSpan roundTrip)
    {
        lock (_lock)
        {
            (_latencies.TryGetValue(peer, out var samples) ? samples : _latencies[peer] = []).Add(roundTrip);
        }
    }

    public TimeSpan? GetLatency(PeerId peer)
    {
        lock (_lock)
        {
            return _latencies.TryGetValue(peer, out var samples) && samples.Count > 0
                ? TimeSpan.FromTicks((long)samples.Average(sample => sample.Ticks))
                : null;
        }
    }

    public IReadOnlyList<TimeSpan> LatencySamples(PeerId peer)
    {
        lock (_lock)
        {
            return _latencies.TryGetValue(peer, out var samples) ? [.. samples] : [];
        }
    }

    public void SetMetadata(PeerId peer, string key, string value)
    {
        lock (_lock)
        {
            _metadata[(peer, key)] = value;
        }
    }

    public string? GetMetadata(PeerId peer, string key)
    {
        lock (_lock)
        {
            return _metadata.GetValueOrDefault((peer, key));
        }
    }

    public bool ConsumePeerRecord(PeerId peer, ulong seq, IReadOnlyList<Multiaddr> addresses, ReadOnlyMemory<byte> envelope, TimeSpan ttl)
    {
        lock (_lock)
        {
            if (_records.TryGetValue(peer, out var held) && held.Seq >= seq)
            {
                return false;
            }

            _records[peer] = (seq, envelope.ToArray());
        }

        SetAddresses(peer, addresses, ttl);
        return true;
    }

    public ReadOnlyMemory<byte>? GetPeerRecordEnvelope(PeerId peer)
    {
        lock (_lock)
        {
            return _records.TryGetValue(peer, out var held) ? held.Envelope : null;
        }
    }

    public void MarkConnected(PeerId peer, bool connected)
    {
    }

    public void RemovePeer(PeerId peer)
    {
        lock (_lock)
        {
            _addresses.Remove(peer);
            _keys.Remove(peer);
            _protocols.Remove(peer);
            _latencies.Remove(peer);
            _records.Remove(peer);
        }
    }

    public void Prune()
    {
    }
}
