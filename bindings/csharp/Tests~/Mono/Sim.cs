using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>The xo-sim binary: started with a pipe on stdin (it exits when the pipe closes).</summary>
    internal sealed class Sim : IDisposable
    {
        private readonly Process _process;

        /// <summary>Control of a simulator another Sim started (e.g. from another AppDomain).</summary>
        public Sim(int port)
        {
            Port = port;
        }

        public Sim(string path)
        {
            var info = new ProcessStartInfo(path)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _process = Process.Start(info);
            var first = _process.StandardOutput.ReadLine();
            const string prefix = "XO_SIM_LISTENING 127.0.0.1:";
            if (first == null || !first.StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidOperationException("xo-sim did not start: " + (first ?? "(no output)"));
            Port = int.Parse(first.Substring(prefix.Length));
            Drain(_process.StandardOutput);
            Drain(_process.StandardError);
        }

        public int Port { get; private set; }

        public string CentrifugoUrl
        {
            get { return "ws://127.0.0.1:" + Port + "/connection/websocket"; }
        }

        public string LegacySocketUrl
        {
            get { return "ws://127.0.0.1:" + Port + "/sub/order/status"; }
        }

        public string ApiBaseUrl
        {
            get { return "http://127.0.0.1:" + Port + "/api"; }
        }

        /// <summary>POSTs JSON to the control API; returns the HTTP status.</summary>
        public int Post(string path, string json)
        {
            string body;
            return Request("POST", path, json, out body);
        }

        public string Get(string path)
        {
            string body;
            var status = Request("GET", path, null, out body);
            if (status != 200)
                throw new InvalidOperationException("GET " + path + ": HTTP " + status);
            return body;
        }

        public void AddOrder(long id, string status, string later = null, int afterMs = 0, bool push = true)
        {
            var json = "{\"order_id\":" + id + ",\"status\":\"" + status + "\",\"push\":" + (push ? "true" : "false");
            if (later != null)
                json += ",\"timeline\":[{\"after_ms\":" + afterMs + ",\"status\":\"" + later + "\"}]";
            json += "}";
            var code = Post("/_sim/order", json);
            if (code != 200)
                throw new InvalidOperationException("POST /_sim/order: HTTP " + code);
        }

        public void SetStatus(long id, string status)
        {
            var code = Post("/_sim/status", "{\"order_id\":" + id + ",\"status\":\"" + status + "\"}");
            if (code != 200)
                throw new InvalidOperationException("POST /_sim/status: HTTP " + code);
        }

        public void Fault(string json)
        {
            var code = Post("/_sim/fault", json);
            if (code != 200)
                throw new InvalidOperationException("POST /_sim/fault: HTTP " + code);
        }

        private int Request(string method, string path, string json, out string body)
        {
            using (var client = new TcpClient())
            {
                client.NoDelay = true;
                client.Connect("127.0.0.1", Port);
                var stream = client.GetStream();
                stream.ReadTimeout = 5000;
                var payload = json == null ? new byte[0] : Encoding.UTF8.GetBytes(json);
                var head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                           (json == null ? "" : "Content-Type: application/json\r\n") +
                           "Content-Length: " + payload.Length + "\r\n\r\n";
                var headBytes = Encoding.ASCII.GetBytes(head);
                stream.Write(headBytes, 0, headBytes.Length);
                stream.Write(payload, 0, payload.Length);
                var response = new MemoryStream();
                stream.CopyTo(response);
                var text = Encoding.UTF8.GetString(response.ToArray());
                var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                body = split < 0 ? "" : text.Substring(split + 4);
                var statusLine = text.Split(new[] { "\r\n" }, StringSplitOptions.None)[0].Split(' ');
                return statusLine.Length > 1 ? int.Parse(statusLine[1]) : 0;
            }
        }

        private static void Drain(StreamReader reader)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    while (reader.ReadLine() != null)
                    {
                    }
                }
                catch (IOException)
                {
                }
            });
            thread.IsBackground = true;
            thread.Start();
        }

        public void Dispose()
        {
            if (_process == null)
                return;
            try
            {
                _process.StandardInput.Close(); // end of file: the simulator stops
                if (!_process.WaitForExit(5000))
                    _process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
        }
    }
}
