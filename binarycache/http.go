package binarycache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// HTTPOptions configure http:// and https:// stores. Zero fields take the
// defaults documented on each.
type HTTPOptions struct {
	// Client is used as is when set (tests); otherwise a client with the
	// timeouts below and a connection pool of Conns connections.
	Client *http.Client
	// Conns is how many connections to keep open to the cache: set it to
	// the number of jobs. Default 25.
	Conns int
	// Timeout bounds one attempt: connecting, the response and reading the
	// whole body. Default 30 s.
	Timeout time.Duration
	// ConnectTimeout bounds establishing a connection. Default 10 s.
	ConnectTimeout time.Duration
	// Attempts is how often a request is tried in all, like Nix's
	// download-attempts. Default 5.
	Attempts int
	// InitialBackoff is the wait before the first retry; it doubles
	// (with +-50% jitter) up to MaxBackoff. Defaults 250 ms and 10 s.
	InitialBackoff, MaxBackoff time.Duration
	// Netrc supplies credentials by host, as Nix's netrc-file does; nil
	// for none. Credentials in the URL take precedence.
	Netrc *Netrc
	// UserAgent is sent with every request. Default "keyform".
	UserAgent string
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	if o.Conns <= 0 {
		o.Conns = 25
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "keyform"
	}
	return o
}

// HTTPStore is a binary cache served over HTTP(S). It cannot be listed:
// narinfos are looked up as BASE/HASH.narinfo.
type HTTPStore struct {
	base    *url.URL // without user information
	user    *url.Userinfo
	client  *http.Client
	o       HTTPOptions
	info    Info
	maxSize int64
}

// OpenHTTP opens the HTTP(S) cache at u and reads its nix-cache-info, so
// an unreachable or wrong URL fails here, once, rather than per path.
func OpenHTTP(ctx context.Context, u *url.URL, o Options) (*HTTPStore, error) {
	ho := o.HTTP.withDefaults()
	base := *u
	base.User = nil
	base.RawQuery, base.ForceQuery, base.Fragment = "", false, ""
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	s := &HTTPStore{base: &base, o: ho, maxSize: o.maxSize(), user: u.User}
	if s.user == nil && ho.Netrc != nil {
		if login, password, ok := ho.Netrc.Lookup(base.Hostname()); ok {
			s.user = url.UserPassword(login, password)
		}
	}
	s.client = ho.Client
	if s.client == nil {
		s.client = newClient(ho)
	}
	text, _, err := s.get(ctx, "nix-cache-info", nil, 64<<10)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store %s has no nix-cache-info (%v): it does not appear to be a binary cache", s.URL(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s is not reachable: %w", s.URL(), err)
	}
	if s.info, err = parseCacheInfo(text, s.URL()+"/nix-cache-info"); err != nil {
		return nil, err
	}
	return s, nil
}

func newClient(o HTTPOptions) *http.Client {
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.Conns,
		MaxIdleConnsPerHost:   o.Conns, // the default of 2 would reconnect for almost every request
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.Timeout,
	}
	return &http.Client{Transport: t}
}

// URL returns the cache's URL without credentials.
func (s *HTTPStore) URL() string { return s.base.String() }

// Info returns what nix-cache-info says.
func (s *HTTPStore) Info() Info { return s.info }

// Close closes idle connections.
func (s *HTTPStore) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// List fails: HTTP caches cannot be listed.
func (s *HTTPStore) List(ctx context.Context, fn func(hash string) error) error {
	return fmt.Errorf("store %s: %w: HTTP caches cannot be listed; give the store paths to look up", s.URL(), ErrNotListable)
}

// Get fetches HASH.narinfo. 404 and 410 are ErrNotFound, and so is 403,
// as Nix treats it (S3 buckets that cannot be listed answer 403 for a
// missing key); the error then says which status it was.
func (s *HTTPStore) Get(ctx context.Context, hash string, buf []byte) ([]byte, string, error) {
	if !validHash(hash) {
		return nil, "", fmt.Errorf("narinfo hash %.40q is not 32 nix32 characters", hash)
	}
	return s.get(ctx, hash+".narinfo", buf, s.maxSize)
}

// StatusError is an HTTP answer other than success, after all attempts.
type StatusError struct {
	URL    string // without credentials
	Status int
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	switch e.Status {
	case http.StatusUnauthorized:
		msg += ": the cache wants credentials: put them in a netrc file (machine HOST login USER password PASS)"
	case http.StatusForbidden:
		msg += ": access denied: check the credentials for this host"
	}
	return msg
}

// Unwrap makes 404, 410 and 403 match ErrNotFound.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
		return ErrNotFound
	}
	return nil
}

// retryable reports whether an HTTP status is worth another attempt.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// get fetches BASE/name with retries: connection errors, timeouts,
// truncated bodies, 5xx, 408 and 429 are tried again after a jittered,
// doubling wait; other answers are final.
func (s *HTTPStore) get(ctx context.Context, name string, buf []byte, max int64) ([]byte, string, error) {
	u := *s.base
	u.Path += "/" + name
	where := u.String()
	b := &backoff.ExponentialBackOff{
		InitialInterval:     s.o.InitialBackoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         s.o.MaxBackoff,
	}
	op := func() ([]byte, error) {
		return s.attempt(ctx, where, buf, max)
	}
	data, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(s.o.Attempts)),
		backoff.WithMaxElapsedTime(0))
	if err != nil {
		var perm *backoff.PermanentError
		if errors.As(err, &perm) {
			err = perm.Unwrap()
		}
		return nil, where, err
	}
	return data, where, nil
}

// attempt makes one request. Errors that must not be retried come back
// wrapped in backoff.Permanent.
func (s *HTTPStore) attempt(ctx context.Context, where string, buf []byte, max int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, backoff.Permanent(err)
	}
	actx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, where, nil)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	req.Header.Set("User-Agent", s.o.UserAgent)
	if s.user != nil {
		password, _ := s.user.Password()
		req.SetBasicAuth(s.user.Username(), password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		// Connection refused or reset, DNS, timeout: try again. The
		// client's error names the URL, which holds no credentials.
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		serr := &StatusError{URL: where, Status: resp.StatusCode}
		if retryable(resp.StatusCode) {
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 && time.Duration(secs)*time.Second <= s.o.MaxBackoff {
				return nil, &retryAfter{serr, time.Duration(secs) * time.Second}
			}
			return nil, serr
		}
		return nil, backoff.Permanent(serr)
	}
	if resp.ContentLength > max {
		return nil, backoff.Permanent(fmt.Errorf("GET %s: %d bytes, more than the limit of %d: %w", where, resp.ContentLength, max, ErrRefused))
	}
	buf = buf[:0]
	lr := &io.LimitedReader{R: resp.Body, N: max + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, backoff.Permanent(ctx.Err())
			}
			// A truncated or stalled body: try again.
			return nil, fmt.Errorf("GET %s: reading the body: %w", where, err)
		}
	}
	if int64(len(buf)) > max {
		return nil, backoff.Permanent(fmt.Errorf("GET %s: more than the limit of %d bytes: %w", where, max, ErrRefused))
	}
	return buf, nil
}

// retryAfter is a retryable status whose server asked for a wait.
type retryAfter struct {
	*StatusError
	wait time.Duration
}

func (r *retryAfter) Unwrap() []error {
	return []error{r.StatusError, &backoff.RetryAfterError{Duration: r.wait}}
}
