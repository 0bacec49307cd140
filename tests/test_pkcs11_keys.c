/* Test-only keys and certificates (generated with openssl for these tests). */
#include "tests/test_pkcs11.h"

const char lwss_p11t_rsa_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCekZkkGXKyEnVY\n"
    "HKOIb+0SLqo7yHKUdnXEbC0kh9plyL5UpF2glwMtQQbKqhgXOt9k4LHyP8lYwuIJ\n"
    "r42cDlY8W8PZfTuS3x7xLyQaY47Cke+Ki9TP8/EWvPMxTcL+KjbhPfC8owgBKc9n\n"
    "iYgiblSQRPn7Zj7+G1RPWN1ualHiIQ8h8FPzv+4FuEcyUrASclyT4UbRiQiapUWx\n"
    "NzFcktT4/i1Llhno+rheFnadxr0dve7sF2Elc2ASHATX+P/cKun1TEvsxEMb3CiM\n"
    "IB+62tszu0YqONVQLCiH0eSaU+Nr8oqg919CxUX+nFA1y+LcOjvPEVWSUDtkovq/\n"
    "+RkSsO0JAgMBAAECggEARmtRj7MPeR5yZ1l8lHxkU5VOu3L205DSFxOVbqo4Zshi\n"
    "IjPGcqlt2zyMGBe20CYwjFuvGu6R6+3MNVH1uQ6y5GY6UU1o1f5pfuGZDnEVNrpZ\n"
    "n3Ue4uUqNZdfBw/KH1a+/YOk9BkQ1ndraMcuol/OBS3kuG09X1ris8Q6vizQRXQG\n"
    "CknhmF0TWrFs8TqI20NRVR6SmefoZaD/FNrUtxFcyPwvYXrGnRT8U+QXGyVJm03N\n"
    "nd32IGlg1AbQ01nEYj7DmJ1LiYmWchlApf36//ItfAp6wuS70aCELtqiiNQQ710s\n"
    "70tX2s8g7p9ytIq5SgY+MV0VfGoaxv6NfO47qsYIQwKBgQDgPQnCUQARBCJbOYG8\n"
    "7RlKu80GELkD4oHirzSE6mXxArDcV7lIieLaQBPGgpbGNc8h0AjYIbPq6sHDCI4+\n"
    "fElPOF/KsgutNWQzN6rHlDxSxuxP6GYGiUPtvIDTeyWgxSQ0ij4k+xGagfh1JYNv\n"
    "lZ++rbt4ro/6Tl+WE1z9ROXwkwKBgQC1B1rXwSIkbAxzGPKjJifWmHIyDRBm1S3F\n"
    "2Tzkm9B9rjGNnKwDVnfOIty2MN2jGjKeQ/1LmlQ/LtdL3eqNnpF6y/l9mAAXhg86\n"
    "Vf8cLB15zwlwUr4ObN6VDeu2ewAH/y6GiEssEskw+JoCnmqbMZpePhUT+nPP1sjp\n"
    "H3gP66qZcwKBgQDPqFboR4DLQUvbtSarYdqhNceJDWV47oMf/OajDDq5dad5dheU\n"
    "0HRvbxWhKQAdsGkQRApctOFb9GjZh4vK2+g739X97OIZVi9jqvKRfnpaofLnkS0i\n"
    "cm2gtIeM0ScoekisCzW/o25K6n+/ZK0SYbqcp2DMQsP8piWo4mej9/EE1wKBgBol\n"
    "t89WDBJqsNmnDtTV3Ac4+bWVAXt46yWanRsADns4v9uOd6H7yU4y5uJB6KF4VTta\n"
    "4qka33RI1bwVj51o++Zas+yaGdlL+cMZTMHK9W70oo5gxSbcPsIUwqkW1whQqW2x\n"
    "Hfp9tCWoosYiD4/e+EcIfI7oK/YnNdnGO9dA2OFVAoGAAKqd4e8fj9zYrQRBKL4V\n"
    "pQlN6ADyo1+Q1+ZyyUFJAqGfhw5Jzl52a7ygVgwX5fWw4NF182kW2lnb1JHMUaDO\n"
    "eGVX53+vFTRy0qaSh4vj7aiRjw+6Ti2NoNkDhBzJArHHTc8DYTjAE4LJDufA+wQz\n"
    "l6nUHDks0x0QZyZU1L3oWJE=\n"
    "-----END PRIVATE KEY-----\n";

const char lwss_p11t_rsa_crt_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDEzCCAfugAwIBAgIUGTFvW3WBC8KKpJCKv9UIVVom9s0wDQYJKoZIhvcNAQEL\n"
    "BQAwGDEWMBQGA1UEAwwNbHdzcyB0ZXN0IHJzYTAgFw0yNjExMjIwMTQ2NTNaGA8y\n"
    "MTI2MTAyOTAxNDY1M1owGDEWMBQGA1UEAwwNbHdzcyB0ZXN0IHJzYTCCASIwDQYJ\n"
    "KoZIhvcNAQEBBQADggEPADCCAQoCggEBAJ6RmSQZcrISdVgco4hv7RIuqjvIcpR2\n"
    "dcRsLSSH2mXIvlSkXaCXAy1BBsqqGBc632TgsfI/yVjC4gmvjZwOVjxbw9l9O5Lf\n"
    "HvEvJBpjjsKR74qL1M/z8Ra88zFNwv4qNuE98LyjCAEpz2eJiCJuVJBE+ftmPv4b\n"
    "VE9Y3W5qUeIhDyHwU/O/7gW4RzJSsBJyXJPhRtGJCJqlRbE3MVyS1Pj+LUuWGej6\n"
    "uF4Wdp3GvR297uwXYSVzYBIcBNf4/9wq6fVMS+zEQxvcKIwgH7ra2zO7Rio41VAs\n"
    "KIfR5JpT42vyiqD3X0LFRf6cUDXL4tw6O88RVZJQO2Si+r/5GRKw7QkCAwEAAaNT\n"
    "MFEwHQYDVR0OBBYEFCPZ1QruPjvtsEmVDoYR2ZPFf+ruMB8GA1UdIwQYMBaAFCPZ\n"
    "1QruPjvtsEmVDoYR2ZPFf+ruMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQEL\n"
    "BQADggEBADKLVHcllxBNohV9GmxZde1OQNkN7X3srJI8WxRaF/oLZ4ElYDt0dSuv\n"
    "PKa1WyhJw5H7RY51GzsAfWp4As7mhFMQ5CXF1EbC1Gi/lT0zx5fMzW3sSnPuGt9s\n"
    "Sp7CK//Eu4wlC5GYYo/L8sAE6RPcJG+bDTeb0hQxMi8djgD4MNfcH6/VgXIuojTu\n"
    "Yr3RXppw5kYqZQpyqIAj7VrlZwzV+TZxepM9E1mPtcwsJNnaZtKL3+X8z7OojiJz\n"
    "UZJlDohjvQlfPXzo/v39RtlPfZSEuqIRmRVUl1BTASru33gw3iY0vLTzI1H0EKcu\n"
    "XB8wPBN7LoaP/MrOQQ9yFbadUCXEsA8=\n"
    "-----END CERTIFICATE-----\n";

const char lwss_p11t_ec_key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIGvKWh8TzzaGc55hPgRFvYjCIoM0NhZPQQxi44bj0EOioAoGCCqGSM49\n"
    "AwEHoUQDQgAE6b5LZNJ0hfWQCUfY5as7R5mZTMe9vZdFiso8wrMlbf5OZPAqMlvW\n"
    "ju95rBnu1EK1MquMtkm6pw5znB/rbqYeIA==\n"
    "-----END EC PRIVATE KEY-----\n";

const char lwss_p11t_ec_crt_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhTCCASugAwIBAgIUEs9sV0OkCiAIfMcmPOsltQ2Uho4wCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMbHdzcyB0ZXN0IGVjMCAXDTI2MTEyMjAxNDY1M1oYDzIxMjYx\n"
    "MDI5MDE0NjUzWjAXMRUwEwYDVQQDDAxsd3NzIHRlc3QgZWMwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAATpvktk0nSF9ZAJR9jlqztHmZlMx729l0WKyjzCsyVt/k5k\n"
    "8CoyW9aO73msGe7UQrUyq4y2SbqnDnOcH+tuph4go1MwUTAdBgNVHQ4EFgQUyPS+\n"
    "63i0rhxbHWwVKrmrnbhvn6QwHwYDVR0jBBgwFoAUyPS+63i0rhxbHWwVKrmrnbhv\n"
    "n6QwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAy7irdB0TQIYZ\n"
    "oUsWLOuvPCuRc9yZpX+RuMhzwJbaFbICIFHaNBn5hzU/z8ZSMFv7Fc5J9p0WwCXi\n"
    "dbwAm/ZwfJR4\n"
    "-----END CERTIFICATE-----\n";

