//! The JIRA client against a loopback JIRA, request and response shapes from
//! `tests/fixtures/jira` (Atlassian's documented Cloud v3 and Data Center v2 shapes).

use costgate::clients::jira::{Auth, Jira};
use costgate::measure::config::JiraApi;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::repo_root;

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/jira").join(name)).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn v3_search_request_has_the_documented_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("search-jql.v3.200.json")))
        .mount(&server)
        .await;
    let j = cloud(&server, "u@example.com", "t");
    let t = j
        .find_by_label("COST", "costgate-pr-acme-manga-assist-42")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.key, "COST-17");
    assert!(!t.created);
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    let documented = fixture("search-jql.v3.request.json");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&sent),
        keys(&documented),
        "no startAt on the enhanced search"
    );
    assert_eq!(sent["fields"], documented["fields"]);
    assert_eq!(
        sent["jql"],
        "project = \"COST\" AND labels = \"costgate-pr-acme-manga-assist-42\" ORDER BY created DESC"
    );
}

#[tokio::test]
async fn v2_search_reads_the_data_center_response() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/search"))
        .and(header("authorization", "Bearer pat"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("search.v2.200.json")))
        .mount(&server)
        .await;
    let j = Jira::new(&server.uri(), JiraApi::V2, Auth::Bearer("pat".into())).unwrap();
    assert_eq!(
        j.find_by_label("COST", "x").await.unwrap().unwrap().key,
        "COST-17"
    );
}

#[tokio::test]
async fn unauthenticated_is_surfaced_with_jiras_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("error.401.json")))
        .mount(&server)
        .await;
    let j = cloud(&server, "u", "wrong");
    let e = j
        .create(&fixture("create-issue.v3.request.json"))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(401));
    assert_eq!(
        e.to_string(),
        "JIRA POST /rest/api/3/issue: 401 You are not authenticated. Authentication required to perform this operation."
    );
}

#[tokio::test]
async fn done_status_category_closes_a_ticket() {
    let server = MockServer::start().await;
    let mut issue = fixture("search-jql.v3.200.json")["issues"][0].clone();
    issue["fields"]["status"]["statusCategory"] = json!({"key": "done", "name": "Done"});
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/COST-17"))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue))
        .mount(&server)
        .await;
    let j = cloud(&server, "u", "t");
    assert!(j.is_done("COST-17").await.unwrap());
    assert!(
        j.is_done("COST-18").await.is_err(),
        "404 is an error, not 'open'"
    );
}

#[tokio::test]
async fn a_rate_limited_create_is_sent_again_and_a_failed_search_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("{}"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("create-issue.201.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"issues": [], "isLast": true})),
        )
        .mount(&server)
        .await;
    let j = cloud(&server, "u", "t");
    let t = j
        .ensure(
            None,
            "COST",
            "costgate-pr-x-1",
            &fixture("create-issue.v3.request.json"),
        )
        .await
        .unwrap();
    assert_eq!((t.key.as_str(), t.created), ("COST-17", true));
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/rest/api/3/search/jql",
            "/rest/api/3/search/jql",
            "/rest/api/3/issue",
            "/rest/api/3/issue",
            // After creating, the label is searched again for a concurrent run's ticket.
            "/rest/api/3/search/jql",
        ]
    );
}

#[tokio::test]
async fn a_create_that_fails_with_5xx_is_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"errorMessages": ["Internal server error"], "errors": {}})),
        )
        .mount(&server)
        .await;
    let j = cloud(&server, "u", "t");
    let e = j
        .create(&fixture("create-issue.v3.request.json"))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(500));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A Jira Cloud (v3, Basic e-mail:token) client for `server`.
fn cloud(server: &MockServer, user: &str, token: &str) -> Jira {
    Jira::new(
        &server.uri(),
        JiraApi::V3,
        Auth::Basic {
            user: user.into(),
            token: token.into(),
        },
    )
    .unwrap()
}

/// Two runs for one PR at once: both searched before either created. After creating, the search
/// finds both tickets; the oldest is the PR's and the younger one is deleted.
#[tokio::test]
async fn a_ticket_created_beside_a_concurrent_one_yields_to_the_oldest() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"issues": [], "isLast": true})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"issues": [{"key": "COST-17", "fields": {}}, {"key": "COST-16", "fields": {}}], "isLast": true}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("create-issue.201.json")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/rest/api/3/issue/COST-17"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let t = cloud(&server, "u", "t")
        .ensure(
            None,
            "COST",
            "costgate-pr-x-1",
            &fixture("create-issue.v3.request.json"),
        )
        .await
        .unwrap();
    assert_eq!((t.key.as_str(), t.created), ("COST-16", false));
    let deleted: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(deleted, ["/rest/api/3/issue/COST-17"]);
}
