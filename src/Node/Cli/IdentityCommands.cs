using System.CommandLine;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Node.Cli;

/// <summary><c>toolnet identity show|new</c>: the node's long-lived identity key.</summary>
internal static class IdentityCommands
{
    public static Command Create()
    {
        var command = new Command("identity", "Show or create the node's identity key (its peer id)");
        command.Subcommands.Add(Show());
        command.Subcommands.Add(New());
        return command;
    }

    private static Command Show()
    {
        var key = CommonOptions.KeyFile();
        var data = CommonOptions.DataDirectory();
        var command = new Command("show", "Load the identity key (creating it on first use) and print the peer id") { key, data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            var path = CommonOptions.ResolveKeyPath(parse.GetValue(key), parse.GetValue(data));
            return await LoadOrCreateAndPrintAsync(output, path, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command New()
    {
        var key = CommonOptions.KeyFile();
        key.Required = true;
        var command = new Command("new", "Write a new Ed25519 identity key to a file that does not exist yet") { key };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            var path = Path.GetFullPath(parse.GetValue(key)!);
            if (File.Exists(path) || Directory.Exists(path))
            {
                return output.Fail($"{path} already exists; an identity is never overwritten");
            }

            return await LoadOrCreateAndPrintAsync(output, path, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> LoadOrCreateAndPrintAsync(CommandOutput output, string path, CancellationToken cancellationToken)
    {
        try
        {
            var identity = await IdentityFile.LoadOrCreateAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            WriteIdentity(output, identity, path);
            return 0;
        }
        catch (IdentityFileException e)
        {
            return output.Fail(e.Message);
        }
    }

    private static void WriteIdentity(CommandOutput output, PrivateKey identity, string path)
    {
        var peerId = PeerId.FromPublicKey(identity.GetPublicKey());
        output.Write(
            new { peerId = peerId.ToString(), peerIdCid = peerId.ToCidString(), keyType = identity.KeyType.ToString(), keyFile = path },
            $"peer id   {peerId}\ncid       {peerId.ToCidString()}\nkey type  {identity.KeyType}\nkey file  {path}");
    }
}
