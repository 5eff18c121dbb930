// An independent CloudEvents implementation (the CNCF Go SDK, which Knative itself is written
// against) on both sides of youtube-rag's functions, so our events are checked by someone
// else's reading of the spec, not only by our own parser:
//
//	cloudevents-go send -target URL -encoding binary|structured -type T -source S -id ID -subject X -data JSON [-ext k=v ...]
//	    sends one event with the SDK's HTTP client and prints {"status": <HTTP status>, "error": "..."}.
//	cloudevents-go sink
//	    receives events with the SDK's HTTP receiver on a loopback port it prints first
//	    ("listening http://127.0.0.1:PORT/"), then prints each event it accepted as one JSON line.
//	    What the SDK cannot read as a valid CloudEvent it refuses, and prints {"refused": "..."}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// extensions collects repeated -ext name=value flags.
type extensions map[string]string

func (e extensions) String() string { return fmt.Sprint(map[string]string(e)) }
func (e extensions) Set(value string) error {
	name, val, ok := strings.Cut(value, "=")
	if !ok {
		return fmt.Errorf("-ext wants name=value, got %q", value)
	}
	e[name] = val
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cloudevents-go send|sink [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "send":
		send(os.Args[2:])
	case "sink":
		sink()
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func printJSON(value any) {
	line, _ := json.Marshal(value)
	fmt.Println(string(line))
}

func send(args []string) {
	flags := flag.NewFlagSet("send", flag.ExitOnError)
	target := flags.String("target", "", "the function's URL")
	encoding := flags.String("encoding", "binary", "binary or structured")
	eventType := flags.String("type", "", "ce-type")
	source := flags.String("source", "/interop/cloudevents-go", "ce-source")
	id := flags.String("id", "", "ce-id")
	subject := flags.String("subject", "", "ce-subject")
	data := flags.String("data", "", "the data, JSON")
	ext := extensions{}
	flags.Var(ext, "ext", "an extension attribute name=value (repeatable)")
	_ = flags.Parse(args)

	event := cloudevents.NewEvent(cloudevents.VersionV1)
	event.SetID(*id)
	event.SetType(*eventType)
	event.SetSource(*source)
	if *subject != "" {
		event.SetSubject(*subject)
	}
	for name, value := range ext {
		event.SetExtension(name, value)
	}
	if *data != "" {
		var value any
		if err := json.Unmarshal([]byte(*data), &value); err != nil {
			fmt.Fprintf(os.Stderr, "-data is not JSON: %v\n", err)
			os.Exit(2)
		}
		if err := event.SetData(cloudevents.ApplicationJSON, value); err != nil {
			fmt.Fprintf(os.Stderr, "data: %v\n", err)
			os.Exit(2)
		}
	}

	client, err := cloudevents.NewClientHTTP()
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(1)
	}
	ctx := cloudevents.ContextWithTarget(context.Background(), *target)
	if *encoding == "structured" {
		ctx = cloudevents.WithEncodingStructured(ctx)
	} else {
		ctx = cloudevents.WithEncodingBinary(ctx)
	}
	result := client.Send(ctx, event)
	var httpResult *cehttp.Result
	if errors.As(result, &httpResult) {
		printJSON(map[string]any{"status": httpResult.StatusCode, "accepted": cloudevents.IsACK(result)})
		return
	}
	// Not an HTTP answer: the SDK refused the event itself, or could not connect.
	printJSON(map[string]any{"status": 0, "error": result.Error()})
}

func sink() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening http://%s/\n", listener.Addr())
	// The SDK's own reading of an HTTP request as a CloudEvent (binary or structured), and its
	// validation of the required attributes.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, err := cloudevents.NewEventFromHTTPRequest(r)
		if err == nil {
			err = event.Validate()
		}
		if err != nil {
			printJSON(map[string]any{"refused": err.Error(), "contentType": r.Header.Get("Content-Type")})
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var data any
		if len(event.Data()) > 0 {
			if err := event.DataAs(&data); err != nil {
				printJSON(map[string]any{"refused": "data: " + err.Error(), "id": event.ID()})
				w.WriteHeader(http.StatusBadRequest)
				return
			}
		}
		printJSON(map[string]any{
			"id":              event.ID(),
			"type":            event.Type(),
			"source":          event.Source(),
			"specversion":     event.SpecVersion(),
			"subject":         event.Subject(),
			"datacontenttype": event.DataContentType(),
			"time":            event.Time(),
			"extensions":      event.Extensions(),
			"data":            data,
			"encoding":        encodingOf(r),
		})
		w.WriteHeader(http.StatusAccepted)
	})
	if err := http.Serve(listener, handler); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
}

func encodingOf(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents") {
		return "structured"
	}
	return "binary"
}
